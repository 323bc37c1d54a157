// The runtime-spec versions tsrun accepts in config.json: 1.0.0 up to any 1.3.x,
// pre-releases and builds included (runc writes 1.0.2-dev).

export const OCI_VERSION_MIN = '1.0.0';
export const OCI_VERSION_MAX = '1.3.0';
const SUPPORTED_MAJOR = 1;
const SUPPORTED_MINOR_MAX = 3;

const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/** Why tsrun cannot take a config of version `v`, or null when it can. */
export function ociVersionProblem(v: string): string | null {
  const m = SEMVER.exec(v);
  if (!m) return `${JSON.stringify(v)} is not a SemVer 2.0.0 version`;
  if (Number(m[1]) !== SUPPORTED_MAJOR || Number(m[2]) > SUPPORTED_MINOR_MAX) {
    return `version ${v} is not supported: tsrun supports ${OCI_VERSION_MIN} up to ${SUPPORTED_MAJOR}.${SUPPORTED_MINOR_MAX}.x`;
  }
  return null;
}
