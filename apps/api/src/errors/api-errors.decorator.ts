import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { z } from 'zod';
import { openApiSchema } from '../validation/zod-openapi.js';

export const errorBodySchema = z.object({
  error: z.object({
    code: z.string().describe('Machine-readable, stable: validation_failed, unauthenticated, not_found, ...'),
    message: z.string().describe('A sentence for humans.'),
    details: z.unknown().optional(),
  }),
  requestId: z.string(),
});

const DESCRIPTIONS: Record<number, string> = {
  400: 'The request is invalid; details.issues names each bad field.',
  401: 'Missing, malformed, unknown or revoked credentials.',
  403: 'The credentials are valid but not allowed here.',
  404: 'No such resource (or it belongs to another tenant).',
  409: 'The request conflicts with the current state.',
  413: 'The request body is too large.',
  415: 'The request body has a content type this route does not take.',
  422: 'The content was understood but refused (module admission, compilation; a request larger than a quota allows at all).',
  429: 'A quota would be exceeded; details name the limit.',
  503: 'A dependency is unavailable.',
};

/** Documents the error responses a route can give, all in the common error shape. */
export function ApiErrors(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({ status, description: DESCRIPTIONS[status] ?? 'Error', schema: openApiSchema(errorBodySchema) }),
    ),
  );
}
