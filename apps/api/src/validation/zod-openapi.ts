import { applyDecorators, Body, Query } from '@nestjs/common';
import { ApiBody, ApiQuery, ApiResponse } from '@nestjs/swagger';
import { z } from 'zod';
import { TakesQuery } from './query-parameters.interceptor.js';
import { ZodValidationPipe } from './zod-validation.pipe.js';

/** The OpenAPI 3.0 form of a zod schema, for @nestjs/swagger. */
export function openApiSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _ignored, ...jsonSchema } = z.toJSONSchema(schema, { target: 'openapi-3.0', io: 'input' }) as Record<
    string,
    unknown
  >;
  return jsonSchema;
}

/** `@Body()` validated by `schema`, and documented with it. */
export function ZodBody(schema: z.ZodType, options: { required?: boolean } = {}): ParameterDecorator {
  return (target, key, index) => {
    Body(new ZodValidationPipe(schema, 'body'))(target, key, index);
    if (key !== undefined) {
      const descriptor = Object.getOwnPropertyDescriptor(target, key)!;
      ApiBody({ schema: openApiSchema(schema), required: options.required ?? true })(target, key, descriptor);
    }
  };
}

/**
 * The body of a route that takes no fields: none, or `{}`. A field sent anyway is a 400 naming it, as on every other
 * route, rather than silently ignored (`{"force": true}` sent to publish would do nothing its sender meant).
 */
export const noFieldsSchema = z.strictObject({}).optional().describe('Nothing: this route takes no fields.');

/** `@Query()` validated by `schema` (an object of optional strings), and documented with it. */
export function ZodQuery(schema: z.ZodObject): ParameterDecorator {
  return (target, key, index) => {
    Query(new ZodValidationPipe(schema, 'query'))(target, key, index);
    if (key !== undefined) {
      const descriptor = Object.getOwnPropertyDescriptor(target, key)!;
      TakesQuery()(target, key, descriptor);
      for (const [name, field] of Object.entries(schema.shape)) {
        ApiQuery({ name, required: !field.safeParse(undefined).success, schema: openApiSchema(field) })(
          target,
          key,
          descriptor,
        );
      }
    }
  };
}

/** Documents a success response by its zod schema. */
export function ZodResponse(status: number, schema: z.ZodType, description: string): MethodDecorator {
  return applyDecorators(ApiResponse({ status, description, schema: openApiSchema(schema) }));
}
