// The client side of the CRI streaming server (containerd's, from kubelet's streaming
// package) for Exec and Attach: a WebSocket with the v4.channel.k8s.io protocol, as
// `kubectl exec` reaches it through the API server. Each binary message starts with its
// channel: 0 stdin, 1 stdout, 2 stderr, 3 the status (JSON, with the exit code), 4 resize.
import WebSocket from 'ws';

export interface StreamResult {
  stdout: string;
  stderr: string;
  /** The v4 status message: {"status":"Success"} or a Failure with an ExitCode cause. */
  status: { status?: string; message?: string; details?: { causes?: { reason?: string; message?: string }[] } } | undefined;
  exitCode: number | undefined;
  /** How the stream ended: "closed" by the server, or "timeout". */
  end: string;
}

export interface StreamOptions {
  /** Sent on stdin (after the stream opened), in order, each after `delayMs`. */
  input?: string[];
  delayMs?: number;
  /** Ends the stream from our side once stdout matches. */
  until?: RegExp;
  timeoutMs?: number;
}

export function stream(url: string, o: StreamOptions = {}): Promise<StreamResult> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws'), ['v4.channel.k8s.io']);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let statusText = '';
    let done = false;
    const finish = (end: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      ws.terminate();
      let status: StreamResult['status'];
      try {
        status = statusText ? (JSON.parse(statusText) as StreamResult['status']) : undefined;
      } catch {
        status = { message: statusText };
      }
      const cause = status?.details?.causes?.find((c) => c.reason === 'ExitCode');
      const exitCode = status?.status === 'Success' ? 0 : cause ? Number(cause.message) : undefined;
      resolve({ stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), status, exitCode, end });
    };
    const timer = setTimeout(() => finish('timeout'), o.timeoutMs ?? 20_000);
    ws.on('open', async () => {
      for (const line of o.input ?? []) {
        await new Promise((r) => setTimeout(r, o.delayMs ?? 200));
        if (done) return;
        ws.send(Buffer.concat([Buffer.from([0]), Buffer.from(line)]));
      }
    });
    ws.on('message', (data: Buffer) => {
      const ch = data[0];
      const body = data.subarray(1);
      if (ch === 1) out.push(body);
      else if (ch === 2) err.push(body);
      else if (ch === 3) statusText += body.toString();
      if (o.until && o.until.test(Buffer.concat(out).toString())) finish('until');
    });
    ws.on('close', () => finish('closed'));
    ws.on('error', (e) => {
      err.push(Buffer.from(`websocket: ${e.message}\n`));
      finish('error');
    });
  });
}
