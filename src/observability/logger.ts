import pino, { DestinationStream, Logger } from 'pino';
import { loggableError } from '../common/loggable-error';

export type LogFormat = 'json' | 'pretty';

export interface LoggerSettings {
  level: string;
  /** Unset: readable lines on a terminal, JSON otherwise (a file, a pipe, a log collector). */
  format: LogFormat | null;
}

/**
 * Fields that may hold a credential, wherever a line carries them: a request line never names
 * headers, but a caller logging an object with them must not leak one either.
 */
const REDACTED = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers["x-platform-key"]',
  'headers.authorization',
  'headers["x-api-key"]',
  'headers["x-platform-key"]',
];

/**
 * The process's one pino logger: request lines (request-log.ts), Nest's and the services' own
 * lines (NestPinoLogger) and the background jobs' all go through it, so they share the level,
 * the redaction and the `err` serializer (an Error leaves without its SQL or bound values).
 */
export function createLogger(settings: LoggerSettings): Logger {
  return pino(
    {
      level: settings.level,
      redact: REDACTED,
      serializers: { err: loggableError },
    },
    destination(settings.format ?? (process.stdout.isTTY ? 'pretty' : 'json')),
  );
}

/**
 * Synchronous writes to stdout: lines stay in order with the start-up banner and survive a
 * crash. Readable lines need pino-pretty, a development dependency: a production install
 * without it writes JSON rather than failing to start.
 */
function destination(format: LogFormat): DestinationStream {
  if (format === 'pretty') {
    const pretty = loadPretty();
    if (pretty) {
      return pretty({
        destination: 1,
        sync: true,
        colorize: process.stdout.isTTY,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname',
        singleLine: true,
      });
    }
  }
  return pino.destination({ dest: 1, sync: true });
}

type Pretty = (options: Record<string, unknown>) => DestinationStream;

function loadPretty(): Pretty | null {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('pino-pretty') as Pretty;
  } catch {
    return null;
  }
}
