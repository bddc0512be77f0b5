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
}

function quote(s: string): string {
  return JSON.stringify(s);
}

function line(level: string, msg: string): string {
  const time = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  if (options.logFormat === 'json') return JSON.stringify({ level, msg, time }) + '\n';
  return `time=${quote(time)} level=${level} msg=${quote(msg)}\n`;
}

function write(level: string, msg: string): void {
  const text = line(level, msg);
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

export function logDebug(msg: string): void {
  if (options.debug) write('debug', msg);
}
