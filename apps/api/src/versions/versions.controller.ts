import { Controller, Get, HttpCode, Param, Post, type RawBodyRequest, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AppError, AppErrorCode } from '@airlock/errors';
import type { Request, Response } from 'express';
import { testsWithInputsAsSent, withInputAsSent } from '../validation/json-as-sent.js';
import { z } from 'zod';
import { actorOf, AuditService } from '../audit/audit.service.js';
import { CurrentPrincipal } from '../auth/current-principal.js';
import { TenantGuard } from '../auth/tenant.guard.js';
import type { TenantPrincipal } from '../auth/tenant-authenticator.service.js';
import { ApiErrors } from '../errors/api-errors.decorator.js';
import { IdParamPipe } from '../validation/id-param.pipe.js';
import { ZodValidationPipe } from '../validation/zod-validation.pipe.js';
import { listPageSchema } from '../validation/list-page.js';
import { noFieldsSchema, openApiSchema, ZodBody, ZodQuery, ZodResponse } from '../validation/zod-openapi.js';
import {
  createVersionJsonSchema,
  listVersionsQuerySchema,
  runTestsSchema,
  testRunSchema,
  toVersionListItem,
  toVersionView,
  versionParamSchema,
  type VersionView,
  versionListItemSchema,
  unpublishedVersionViewSchema,
  versionViewSchema,
} from './version.schema.js';
import { type NewVersionInput, type StoppedBinding, VersionsService } from './versions.service.js';
import { LeavesConfigUnchanged } from '../tenant-config/leaves-config-unchanged.decorator.js';

class VersionNumberPipe {
  transform(value: string): number {
    const parsed = versionParamSchema.safeParse(value);
    if (!parsed.success) throw new AppError(AppErrorCode.NotFound, `No version ${JSON.stringify(value)} of this plugin.`);
    return parsed.data;
  }
}


@ApiTags('plugin versions')
@ApiBearerAuth('tenant')
@ApiErrors(401, 404)
@UseGuards(TenantGuard)
@Controller('v1/plugins/:pluginId/versions')
export class VersionsController {
  constructor(
    private readonly versions: VersionsService,
    private readonly audit: AuditService,
  ) {}

  @Post()
  @ApiOperation({
    summary: 'Add a version: a raw module (application/wasm, gzip allowed) or JSON (AssemblyScript source, or wasmBase64), with declared tests',
  })
  @ApiConsumes('application/wasm', 'application/json')
  @ApiBody({
    schema: { oneOf: [{ type: 'string', format: 'binary' }, openApiSchema(createVersionJsonSchema)] },
  })
  @ZodResponse(201, versionViewSchema, 'The new version.')
  @ZodResponse(200, versionViewSchema, 'A version with these exact bytes existed already: that one.')
  @ApiErrors(400, 409, 413, 415, 422)
  async create(
    @CurrentPrincipal() principal: TenantPrincipal,
    @Param('pluginId', new IdParamPipe('plugin')) pluginId: string,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ): Promise<VersionView> {
    let input: NewVersionInput;
    // No body at all (Content-Length: 0) is read by no parser, whatever its type says: it is empty, not of a wrong type.
    const empty = () => new AppError(AppErrorCode.ValidationFailed, "The request body is empty: send the module's bytes as application/wasm, or JSON as application/json.");
    if (request.body === undefined || request.headers['content-length'] === '0') throw empty();
    if (request.is('application/wasm')) {
      const bytes = request.body as unknown;
      if (!Buffer.isBuffer(bytes) || bytes.length === 0) throw empty();
      input = { kind: 'wasm', bytes: new Uint8Array(bytes), tests: [] };
    } else if (request.is('application/json')) {
      const body = new ZodValidationPipe(createVersionJsonSchema, 'body').transform(request.body);
      const tests = testsWithInputsAsSent(body.tests, request);
      input = 'wasmBase64' in body
        ? { kind: 'wasm', bytes: new Uint8Array(Buffer.from(body.wasmBase64, 'base64')), tests }
        : { kind: 'source', language: body.language, files: body.source.files, entry: body.source.entry, tests };
    } else {
      throw new AppError(AppErrorCode.UnsupportedMediaType, 'Send the module as application/wasm, or JSON as application/json.');
    }
    const { version, created } = await this.versions.create(principal.tenant, pluginId, input, actorOf(principal));
    if (created) await this.audit.record(principal.tenant.id, actorOf(principal), 'version.created', version.id, { pluginId, number: version.number, sha256: version.sha256 });
    response.status(created ? 201 : 200);
    return toVersionView(version);
  }

  @Get()
  @ApiOperation({ summary: "List a plugin's versions" })
  @ZodResponse(200, listPageSchema(versionListItemSchema), 'One page of versions, by number (without source and tests: get a version for those).')
  @ApiErrors(400, 404)
  async list(
    @CurrentPrincipal() principal: TenantPrincipal,
    @Param('pluginId', new IdParamPipe('plugin')) pluginId: string,
    @ZodQuery(listVersionsQuerySchema) query: z.output<typeof listVersionsQuerySchema>,
  ) {
    const page = await this.versions.list(principal.tenant.id, pluginId, query);
    return { items: page.items.map(toVersionListItem), nextCursor: page.nextCursor };
  }

  @Get(':number')
  @ApiOperation({ summary: 'Get a version' })
  @ZodResponse(200, versionViewSchema, 'The version.')
  async get(
    @CurrentPrincipal() principal: TenantPrincipal,
    @Param('pluginId', new IdParamPipe('plugin')) pluginId: string,
    @Param('number', VersionNumberPipe) number: number,
  ): Promise<VersionView> {
    return toVersionView(await this.versions.get(principal.tenant.id, pluginId, number));
  }

  @Get(':number/wasm')
  @ApiOperation({ summary: 'Download the module as uploaded (or as compiled)' })
  @ApiResponse({ status: 200, description: 'The module bytes.', content: { 'application/wasm': { schema: { type: 'string', format: 'binary' } } } })
  async wasm(
    @CurrentPrincipal() principal: TenantPrincipal,
    @Param('pluginId', new IdParamPipe('plugin')) pluginId: string,
    @Param('number', VersionNumberPipe) number: number,
    @Res() response: Response,
  ): Promise<void> {
    const bytes = await this.versions.wasm(principal.tenant.id, pluginId, number);
    response.type('application/wasm').send(Buffer.from(bytes));
  }

  @Post(':number/test')
  @LeavesConfigUnchanged()
  @HttpCode(200)
  @ApiOperation({ summary: "Run the version's declared tests, or one ad-hoc call (export + input), in the sandbox" })
  @ZodResponse(200, testRunSchema, 'One result per test, with output, logs, fuel, memory and duration.')
  @ApiErrors(400, 422, 429, 503)
  async test(
    @CurrentPrincipal() principal: TenantPrincipal,
    @Param('pluginId', new IdParamPipe('plugin')) pluginId: string,
    @Param('number', VersionNumberPipe) number: number,
    @ZodBody(runTestsSchema, { required: false }) body: z.output<typeof runTestsSchema>,
    @Req() request: RawBodyRequest<Request>,
  ) {
    return this.versions.test(principal.tenant, pluginId, number, withInputAsSent(body, request));
  }

  @Post(':number/publish')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Publish the version once its declared tests pass (409 with the failing tests otherwise); one published already is answered as it stands, its tests not run again (`results` empty)',
  })
  @ZodResponse(200, z.object({ version: versionViewSchema, results: testRunSchema.shape.results }), 'Published.')
  @ApiErrors(400, 409, 422, 429, 503)
  async publish(
    @CurrentPrincipal() principal: TenantPrincipal,
    @Param('pluginId', new IdParamPipe('plugin')) pluginId: string,
    @Param('number', VersionNumberPipe) number: number,
    @ZodBody(noFieldsSchema, { required: false }) _body: unknown,
  ) {
    const { version, results, changed } = await this.versions.publish(principal.tenant, pluginId, number);
    // Published already (before, or by a request at the same moment): answered as it stands, not audited again.
    if (changed) await this.audit.record(principal.tenant.id, actorOf(principal), 'version.published', version.id, { pluginId, number });
    return { version: toVersionView(version), results };
  }

  @Post(':number/unpublish')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Unpublish the version, stopping what runs it ("latest" bindings move to the newest still published); `stoppedBindings` names the enabled bindings that no longer run',
  })
  @ZodResponse(200, unpublishedVersionViewSchema, 'The version, and the bindings it stopped.')
  @ApiErrors(400, 409)
  async unpublish(
    @CurrentPrincipal() principal: TenantPrincipal,
    @Param('pluginId', new IdParamPipe('plugin')) pluginId: string,
    @Param('number', VersionNumberPipe) number: number,
    @ZodBody(noFieldsSchema, { required: false }) _body: unknown,
  ): Promise<VersionView & { stoppedBindings: StoppedBinding[] }> {
    const { version, stopped, changed } = await this.versions.unpublish(principal.tenant, pluginId, number);
    // Unpublished already: answered as it stands, not audited again.
    if (changed) await this.audit.record(principal.tenant.id, actorOf(principal), 'version.unpublished', version.id, {
      pluginId,
      number,
      ...(stopped.length === 0 ? {} : { stoppedBindings: stopped.map((binding) => binding.id) }),
    });
    return { ...toVersionView(version), stoppedBindings: stopped };
  }
}
