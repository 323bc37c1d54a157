// Container ID rules, as runc's libcontainer validateID: a non-empty string of
// [A-Za-z0-9_+.-] that is not "." or "..". (runc 1.1's regexp ^[\w+-\.]+$ let a comma
// through by accident, as the range +-.; later runc and tsrun do not.)

export class InvalidIdError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidIdError';
  }
}

/** The state directory <root>/<id> must fit NAME_MAX; runc fails later with ENAMETOOLONG. */
export const MAX_ID_LENGTH = 255;

// [A-Za-z0-9_+.-]+, tested without a regular expression: every command checks an id, and bun's
// first regular expression costs a start-up ~0.1 ms and 1.4 MB of resident pages.
function allowed(id: string): boolean {
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    const ok = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 43 || c === 46 || c === 45;
    if (!ok) return false;
  }
  return id.length > 0;
}

/** Throws InvalidIdError with runc's wording when `id` cannot name a container. */
export function validateId(id: string): void {
  if (id === '') throw new InvalidIdError('container id cannot be empty');
  if (!allowed(id) || id === '.' || id === '..') {
    throw new InvalidIdError('invalid container ID format');
  }
  if (id.length > MAX_ID_LENGTH) {
    throw new InvalidIdError(`invalid container ID format: longer than ${MAX_ID_LENGTH} characters`);
  }
}

export function isValidId(id: string): boolean {
  try {
    validateId(id);
    return true;
  } catch {
    return false;
  }
}
