// The state store: <root>/<id>/state.json, one directory per container (mode 0700; the root
// 0711 like runc). state.json is replaced atomically, so a reader never sees half a record.
import { TsrunError, errnoCode } from '../errors.js';
import { fs, path } from '../io.js';
import { exists, sys, unlinkIfThere, writeFile } from '../sysfile.js';
import { validateId } from '../spec/ids.js';
import type { ContainerRecord } from './record.js';

export const STATE_FILE = 'state.json';

/** Throws unless `id` names a container and can never leave the root (no '/', no '..'). */
export function checkId(id: string): void {
  try {
    validateId(id);
  } catch (e) {
    throw new TsrunError((e as Error).message);
  }
  // The store's own guard, whatever validateId allows.
  if (id.includes('/') || id.includes('\0') || id === '.' || id === '..') {
    throw new TsrunError('invalid container ID format');
  }
}

/** Creates the root directory (0711) if needed. */
export function ensureRoot(root: string): void {
  try {
    fs.mkdirSync(root, { mode: 0o711 });
  } catch (e) {
    if (errnoCode(e) === 'EEXIST') return checkRootOwner(root);
    if (errnoCode(e) !== 'ENOENT') throw new TsrunError(`cannot create the state root ${root}`, { cause: e });
    fs.mkdirSync(path.dirname(root), { recursive: true, mode: 0o755 });
    ensureRoot(root);
  }
}

/**
 * A state root that another user owns or may write into could have its container directories
 * swapped for symlinks under tsrun's feet: refuse to keep state there.
 */
function checkRootOwner(root: string): void {
  const st = fs.statSync(root);
  const uid = process.geteuid?.() ?? 0;
  if (!st.isDirectory()) throw new TsrunError(`the state root ${root} is not a directory`);
  if (st.uid !== uid || (st.mode & 0o022) !== 0) {
    throw new TsrunError(`the state root ${root} is owned by uid ${st.uid} with mode ${(st.mode & 0o7777).toString(8)}: it must belong to uid ${uid} and be writable by it alone`);
  }
}

function isRecord(v: unknown, id: string): v is ContainerRecord {
  const r = v as Partial<ContainerRecord> | null;
  return !!r && typeof r === 'object' && r.id === id && Number.isInteger(r.pid) && typeof r.status === 'string' &&
    typeof r.bundle === 'string' && typeof r.pidStartTime === 'number';
}

function readFailed(id: string, e: unknown): undefined {
  if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return undefined;
  throw new TsrunError(`cannot read the state of container ${id}`, { cause: e });
}

function parseRecord(id: string, file: string, text: string): ContainerRecord {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new TsrunError(`the state of container ${id} is corrupt (${file}): ${(e as Error).message}`);
  }
  if (!isRecord(v, id)) throw new TsrunError(`the state of container ${id} is corrupt (${file}): not a container record`);
  return v;
}

export class Store {
  constructor(readonly root: string) {}

  /** <root>/<id>, after checking the id. */
  dir(id: string): string {
    checkId(id);
    return this.root.endsWith('/') ? this.root + id : `${this.root}/${id}`;
  }

  /** Creates <root>/<id> exclusively: a second create of the same id fails. */
  createDir(id: string): string {
    const dir = this.dir(id);
    ensureRoot(this.root);
    try {
      fs.mkdirSync(dir, { mode: 0o700 });
    } catch (e) {
      if (errnoCode(e) === 'EEXIST') throw new TsrunError(`container with id ${id} already exists`);
      throw new TsrunError(`cannot create the state directory`, { cause: e });
    }
    return dir;
  }

  exists(id: string): boolean {
    return exists(`${this.dir(id)}/${STATE_FILE}`);
  }

  /** The record, or undefined when the container does not exist. */
  tryLoad(id: string): ContainerRecord | undefined {
    const file = `${this.dir(id)}/${STATE_FILE}`;
    let text: string;
    try {
      text = sys().readFile(file);
    } catch (e) {
      return readFailed(id, e);
    }
    return parseRecord(id, file, text);
  }

  /** tryLoad(), for callers written against the asynchronous form. */
  async tryLoadAsync(id: string): Promise<ContainerRecord | undefined> {
    return this.tryLoad(id);
  }

  async loadAsync(id: string): Promise<ContainerRecord> {
    const r = await this.tryLoadAsync(id);
    if (!r) throw new TsrunError(`container ${id} does not exist`);
    return r;
  }

  load(id: string): ContainerRecord {
    const r = this.tryLoad(id);
    if (!r) throw new TsrunError(`container ${id} does not exist`);
    return r;
  }

  /**
   * Writes state.json atomically: a temporary file in the same directory, then rename. No fsync
   * (runc and crun do none either): the state describes processes, which a reboot ends anyway,
   * and each fsync costs 1-4 ms on every create/start.
   */
  save(record: ContainerRecord): void {
    const dir = this.dir(record.id);
    const file = `${dir}/${STATE_FILE}`;
    const tmp = `${dir}/.${STATE_FILE}.${process.pid}.tmp`;
    try {
      writeFile(tmp, JSON.stringify(record), 0o600);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') throw new TsrunError(`container ${record.id} does not exist`);
      try { unlinkIfThere(tmp); } catch { /* the error below says enough */ }
      throw new TsrunError(`cannot save the state of container ${record.id}`, { cause: e });
    }
    try {
      sys().rename(tmp, file);
    } catch (e) {
      try { unlinkIfThere(tmp); } catch { /* the error below says enough */ }
      throw new TsrunError(`cannot save the state of container ${record.id}`, { cause: e });
    }
  }

  /** Removes <root>/<id> and everything in it; a missing directory is fine. */
  remove(id: string): void {
    const dir = this.dir(id);
    // What is usually in it, without a directory walk; anything else through rmSync.
    for (const name of [STATE_FILE, '.lock', 'exec.fifo']) {
      try {
        sys().unlink(`${dir}/${name}`);
      } catch {
        // absent
      }
    }
    try {
      sys().rmdir(dir);
    } catch {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Ids of the containers that have a state.json, sorted. */
  list(): string[] {
    let names: string[];
    try {
      names = sys().readdir(this.root);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return [];
      throw new TsrunError(`cannot read the state root ${this.root}`, { cause: e });
    }
    return names.filter((n) => {
      try {
        checkId(n);
      } catch {
        return false;
      }
      return exists(`${this.root}/${n}/${STATE_FILE}`);
    }).sort();
  }
}
