// A device rule's access letters, read as runc reads them: r, w and m count, any other letter is
// ignored (runc's Permissions set), and an absent or empty access means all three.

/** "rwm", or the subset named, in that order; null when letters are given but none of r, w, m (the rule grants or denies nothing). */
export function deviceAccess(access: string | undefined): string | null {
  if (!access) return 'rwm';
  const letters = ['r', 'w', 'm'].filter((c) => access.includes(c)).join('');
  return letters === '' ? null : letters;
}
