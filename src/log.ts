// Error and debug output in runc's shapes: logrus text on stderr by default, JSON lines
// ({"level","msg","time"}) with --log-format json, to --log FILE when given.
import * as fs from 'fs';

export interface LogOptions {
  log?: string;
  logFormat?: string;
  debug?: boolean;
}

let options: LogOptions = {};

export function configureLog(o: LogOptions): void {
  options = o;
  // runc opens --log at start-up (O_CREAT|O_APPEND), whether or not anything is written.
  if (o.log) {
    try {
      fs.closeSync(fs.openSync(o.log, 'a'));
    } catch {
      // write() falls back to stderr
    }
  }
}

export type LogFields = Record<string, string | number>;

function quote(s: string): string {
  return JSON.stringify(s);
}

// logrus's shapes: fields after msg in text (key=value, quoted only when needed), merged
// into the object in JSON.
function line(level: string, msg: string, fields: LogFields = {}): string {
  const time = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  if (options.logFormat === 'json') return JSON.stringify({ ...fields, level, msg, time }) + '\n';
  const extra = Object.entries(fields).map(([k, v]) => ` ${k}=${/^[\w./:-]+$/.test(String(v)) ? v : quote(String(v))}`).join('');
  return `time=${quote(time)} level=${level} msg=${quote(msg)}${extra}\n`;
}

function write(level: string, msg: string, fields?: LogFields): void {
  const text = line(level, msg, fields);
  if (options.log) {
    try {
      fs.appendFileSync(options.log, text);
      return;
    } catch {
      // fall through to stderr: a log we cannot write must not hide the error
    }
  }
  fs.writeSync(2, text);
}

export function logError(msg: string): void {
  write('error', msg);
  // With a log file the message still reaches a human on stderr, as runc does.
  if (options.log) fs.writeSync(2, msg + '\n');
}

export function logWarn(msg: string): void {
  write('warning', msg);
}

// --debug: runc's level=debug lines, one per step of create, start, exec and the wait.
export function logDebug(msg: string, fields?: LogFields): void {
  if (options.debug) write('debug', msg, fields);
}
