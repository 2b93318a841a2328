import { get_log_level, log_debug, log_error, log_info, log_trace, log_warn } from "./env";
import { stringToBlock } from "./memory";

export enum LogLevel {
  Trace = 0,
  Debug = 1,
  Info = 2,
  Warn = 3,
  Error = 4,
}

/** Log lines, kept with the call's result (within the tier's caps). */
export class Log {
  /** The least severe level the host keeps: skip building messages below it. */
  static level(): LogLevel {
    return <LogLevel>get_log_level();
  }

  static enabled(level: LogLevel): bool {
    return level >= Log.level();
  }

  static trace(message: string): void {
    if (Log.enabled(LogLevel.Trace)) log_trace(stringToBlock(message));
  }

  static debug(message: string): void {
    if (Log.enabled(LogLevel.Debug)) log_debug(stringToBlock(message));
  }

  static info(message: string): void {
    if (Log.enabled(LogLevel.Info)) log_info(stringToBlock(message));
  }

  static warn(message: string): void {
    if (Log.enabled(LogLevel.Warn)) log_warn(stringToBlock(message));
  }

  static error(message: string): void {
    if (Log.enabled(LogLevel.Error)) log_error(stringToBlock(message));
  }
}
