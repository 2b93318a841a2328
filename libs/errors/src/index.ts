export { AppError, AppErrorCode, type AppErrorOptions } from './app-error.js';
