import fs from 'node:fs';

export interface LogLine {
  level: number;
  msg?: string;
  [field: string]: unknown;
}

/**
 * Captures the JSON lines the app writes to stdout (pino writes them synchronously to fd 1)
 * from `start()` until `stop()`, without letting them through. `text` is what was written, as
 * written: assertions that a secret never appears look there.
 */
export function captureLogs() {
  const text: string[] = [];
  const write = fs.writeSync.bind(fs);
  const spy = jest.spyOn(fs, 'writeSync').mockImplementation((fd: number, data: unknown) => {
    const chunk = typeof data === 'string' ? data : Buffer.from(data as Uint8Array).toString();
    if (fd === 1) {
      text.push(chunk);
      return Buffer.byteLength(chunk);
    }
    return (write as (...args: unknown[]) => number)(fd, data);
  });
  return {
    text: () => text.join(''),
    lines: (): LogLine[] =>
      text
        .join('')
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as LogLine),
    clear: () => void text.splice(0),
    stop: () => spy.mockRestore(),
  };
}
