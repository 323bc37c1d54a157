import { TsrunError } from '../../errors.js';

export default async function restore(): Promise<number> {
  throw new TsrunError('restore is not supported');
}
