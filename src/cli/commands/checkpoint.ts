import { TsrunError } from '../../errors.js';

export default async function checkpoint(): Promise<number> {
  throw new TsrunError('checkpoint is not supported');
}
