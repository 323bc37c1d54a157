// A read-only image registry on 127.0.0.1 (the pull side of the OCI distribution API:
// /v2/, manifests and blobs by tag or digest) serving one OCI archive, so that PullImage
// goes over the network as it does for kubelet. containerd talks plain HTTP to a
// `localhost:PORT` registry without any configuration.
import { createServer, type Server } from 'node:http';
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cmd } from '../../engines/lib/cmd.js';

export interface Registry {
  /** localhost:PORT */
  host: string;
  /** How many manifest and blob requests it answered. */
  requests: string[];
  close(): Promise<void>;
}

export async function serveOciArchive(archive: string, repo: string, tag: string): Promise<Registry> {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-cri-registry-'));
  const x = await cmd(['tar', '-xf', archive, '-C', dir]);
  if (x.code !== 0) throw new Error(`tar -xf ${archive}: ${x.stderr}`);
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests: { mediaType: string; digest: string }[] };
  const manifest = index.manifests[0];
  if (!manifest) throw new Error(`${archive}: no manifest in index.json`);
  const blobPath = (digest: string) => (/^sha256:[0-9a-f]{64}$/.test(digest) ? join(dir, 'blobs', 'sha256', digest.slice(7)) : '');
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(`${req.method} ${url.pathname}`);
    const send = (file: string, type: string, digest: string) => {
      if (!file || !existsSync(file)) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"BLOB_UNKNOWN","message":"unknown"}]}');
        return;
      }
      res.writeHead(200, { 'content-type': type, 'content-length': statSync(file).size, 'docker-content-digest': digest });
      if (req.method === 'HEAD') res.end();
      else createReadStream(file).pipe(res);
    };
    if (url.pathname === '/v2/' || url.pathname === '/v2') {
      res.writeHead(200, { 'docker-distribution-api-version': 'registry/2.0' }).end('{}');
      return;
    }
    const m = new RegExp(`^/v2/${repo}/(manifests|blobs)/(.+)$`).exec(url.pathname);
    if (!m || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"NAME_UNKNOWN","message":"unknown"}]}');
      return;
    }
    const [, kind, ref] = m as unknown as [string, string, string];
    if (kind === 'manifests') {
      const digest = ref === tag ? manifest.digest : ref;
      send(digest === manifest.digest ? blobPath(digest) : '', manifest.mediaType, digest);
    } else {
      send(blobPath(ref), 'application/octet-stream', ref);
    }
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    host: `localhost:${port}`,
    requests,
    close: () =>
      new Promise<void>((res) => {
        server.closeAllConnections();
        server.close(() => {
          rmSync(dir, { recursive: true, force: true });
          res();
        });
      }),
  };
}
