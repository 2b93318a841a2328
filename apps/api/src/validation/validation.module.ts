import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { QueryParametersInterceptor } from './query-parameters.interceptor.js';

/** Checks every route applies to requests beyond its own pipes. */
@Module({ providers: [{ provide: APP_INTERCEPTOR, useClass: QueryParametersInterceptor }] })
export class ValidationModule {}
