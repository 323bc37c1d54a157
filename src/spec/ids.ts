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

const ALLOWED = /^[A-Za-z0-9_+.-]+$/;

/** Throws InvalidIdError with runc's wording when `id` cannot name a container. */
export function validateId(id: string): void {
  if (id === '') throw new InvalidIdError('container id cannot be empty');
  if (!ALLOWED.test(id) || id === '.' || id === '..') {
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
