import type { PluginVersionSummary } from '@airlock/db';
import { SANDBOX_STATUSES } from '@airlock/sandbox';
import { MAX_SOURCE_BYTES, MAX_SOURCE_FILES, SOURCE_FILE_NAME, SOURCE_FILE_NAME_RULE, sourceBytes } from '@airlock/plugin-pdk';
import { z } from 'zod';
import { pluginConfigSchema } from '../validation/plugin-config.js';
import { listPageQuery } from '../validation/list-page.js';
import { cursorSchema } from '../validation/opaque-cursor.js';


/** What a call of a test gets: text, JSON (sent as its text) or bytes in base64; one of them at most (`oneInputAtMost`). */
/**
 * A call's input as text, handed to the plugin as UTF-8: a lone surrogate has
 * no UTF-8 form, and would reach the plugin silently replaced (U+FFFD).
 */
export const inputTextSchema = (maxLength: number) =>
  z
    .string()
    .max(maxLength)
    .refine((text) => text.isWellFormed(), 'must be well-formed Unicode (it holds a lone surrogate, which has no UTF-8 form); send bytes as inputBase64');

export const inputFields = {
  input: inputTextSchema(1024 * 1024).optional(),
  inputJson: z.unknown().optional(),
  inputBase64: z.base64().max(1_400_000).optional(),
};

/** Refuses a call given two inputs (which one was meant?), naming the second. */
export function oneInputAtMost(call: { input?: string | undefined; inputJson?: unknown; inputBase64?: string | undefined }, context: z.RefinementCtx): void {
  const given = (['input', 'inputJson', 'inputBase64'] as const).filter((field) => call[field] !== undefined);
  if (given.length > 1) context.addIssue({ code: 'custom', message: `send one of ${given.join(', ')}, not several`, path: [given[1]!] });
}

export const declaredTestSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(200),
    export: z.string().min(1).max(200),
    ...inputFields,
    config: pluginConfigSchema.optional(),
    expect: z
      .strictObject({
        status: z.enum(SANDBOX_STATUSES).default('ok'),
        /** The output, as UTF-8 text, exactly. */
        output: z.string().optional(),
        /** The output parsed as JSON, deeply equal. */
        outputJson: z.unknown().optional(),
        maxFuel: z.number().int().positive().optional(),
      })
      .default({ status: 'ok' }),
  })
  .superRefine(oneInputAtMost);

export type DeclaredTest = z.output<typeof declaredTestSchema>;

/**
 * A declared test as a version keeps it: its `inputJson` also as it was sent (`inputJsonText`) when a plugin would
 * read it otherwise from the parsed value (see testsWithInputsAsSent). Shown without that text: the test as written.
 */
export type StoredDeclaredTest = DeclaredTest & { inputJsonText?: string };

function shownTest(test: StoredDeclaredTest): DeclaredTest {
  const { inputJsonText: _sent, ...shown } = test;
  return shown;
}

/** A test's name is how a failed publish names it: two of one name would leave the failing one unknown. */
const testsSchema = z
  .array(declaredTestSchema)
  .max(50, 'at most 50 tests per version')
  .superRefine((tests, context) => {
    const seen = new Set<string>();
    tests.forEach((test, index) => {
      if (seen.has(test.name)) context.addIssue({ code: 'custom', message: `another test is named "${test.name}"; each needs its own name`, path: [index, 'name'] });
      seen.add(test.name);
    });
  })
  .default([]);

const sourceFileName = z.string().regex(SOURCE_FILE_NAME, `must be a file name the compiler takes: ${SOURCE_FILE_NAME_RULE}`);

/** The JSON form of a new version: AssemblyScript source to compile, or a module in base64. */
export const createVersionJsonSchema = z.union([
  z.strictObject({
    language: z.literal('assemblyscript'),
    source: z
      .strictObject({
        files: z
          .record(sourceFileName, z.string())
          .refine((files) => Object.keys(files).length <= MAX_SOURCE_FILES, `at most ${MAX_SOURCE_FILES} files`)
          .superRefine((files, context) => {
            const size = sourceBytes(files);
            if (size > MAX_SOURCE_BYTES) context.addIssue({ code: 'custom', message: `${size} bytes of names and text; at most ${MAX_SOURCE_BYTES}` });
          }),
        entry: sourceFileName.optional(),
      })
      .superRefine((source, context) => {
        // The file compiling starts from must be one of those sent: a request's mistake, not the compiler's.
        const entry = source.entry ?? 'index.ts';
        if (Object.hasOwn(source.files, entry)) return;
        const message = source.entry === undefined ? 'there is no index.ts, the entry when none is named: send it, or name the entry' : `"${entry}" is not among the files`;
        context.addIssue({ code: 'custom', message, path: ['entry'] });
      }),
    tests: testsSchema,
  }),
  z.strictObject({ wasmBase64: z.base64().min(1), tests: testsSchema }),
]);

export const runTestsSchema = z
  .strictObject({
    /** With an export: one ad-hoc call instead of the declared tests. */
    export: z.string().min(1).max(200).optional(),
    ...inputFields,
    config: pluginConfigSchema.optional(),
  })
  .superRefine(oneInputAtMost)
  .refine((body) => body.export !== undefined || (body.input === undefined && body.inputJson === undefined && body.inputBase64 === undefined), {
    message: 'an ad-hoc input needs an export',
    path: ['export'],
  });

/** A version number in a body: the same range as in a path. */
export const versionNumberSchema = z.number().int().min(1).max(1_000_000);
/** In a path: the number's plain decimal digits (not 0x1, 1e0, +1 or " 1", which JavaScript would also read as 1). */
export const versionParamSchema = z
  .string()
  .regex(/^[1-9][0-9]{0,6}$/)
  .transform(Number)
  .pipe(z.number().max(1_000_000));

export const versionViewSchema = z.object({
  pluginId: z.uuid(),
  number: z.number().int(),
  sha256: z.string(),
  sizeBytes: z.number().int(),
  exports: z.array(z.string()),
  imports: z.array(z.object({ module: z.string(), name: z.string() })),
  permissions: z.array(z.string()),
  sourceLanguage: z.string().nullable(),
  source: z.unknown().nullable().describe('The files compiled, when Airlock compiled them.'),
  tests: z.array(z.unknown()),
  status: z.enum(['draft', 'published', 'unpublished']),
  approvalStatus: z.enum(['not_required', 'pending', 'approved', 'rejected']).describe('New or beyond-tier permissions wait for an admin before the version can be bound.'),
  publishedAt: z.iso.datetime().nullable(),
  createdBy: z.string(),
  createdAt: z.iso.datetime(),
});

export type VersionView = z.infer<typeof versionViewSchema>;

/** A version as lists show it: without its source and tests (up to megabytes each); `GET .../versions/:n` has them. */
/** What unpublishing answers: the version, and the enabled bindings that stopped running with it. */
export const unpublishedVersionViewSchema = versionViewSchema.extend({
  stoppedBindings: z
    .array(z.object({ id: z.uuid(), event: z.string(), export: z.string(), version: z.union([z.literal('latest'), z.number().int()]) }))
    .describe('Enabled bindings that no longer run: pinned to this version, or following "latest" with an export the version before lacks (or with none left). Pin them elsewhere, change or disable them.'),
});

export const versionListItemSchema = versionViewSchema.omit({ source: true, tests: true });

export const listVersionsQuerySchema = z.strictObject({
  limit: listPageQuery.limit,
  cursor: cursorSchema((fields) => versionNumberSchema.parse(fields.n))
    .optional()
    .describe('The nextCursor of the previous page.'),
});

export function toVersionListItem(version: PluginVersionSummary): z.infer<typeof versionListItemSchema> {
  const { source: _source, tests: _tests, ...item } = toVersionView(version);
  return item;
}

export function toVersionView(version: PluginVersionSummary): VersionView {
  return {
    pluginId: version.pluginId,
    number: version.number,
    sha256: version.sha256,
    sizeBytes: version.sizeBytes,
    exports: version.exports as string[],
    imports: version.imports as VersionView['imports'],
    permissions: version.permissions as string[],
    sourceLanguage: version.sourceLanguage,
    source: version.source ?? null,
    tests: (version.tests as StoredDeclaredTest[]).map(shownTest),
    status: version.status as VersionView['status'],
    approvalStatus: version.approvalStatus as VersionView['approvalStatus'],
    publishedAt: version.publishedAt?.toISOString() ?? null,
    createdBy: version.createdBy,
    createdAt: version.createdAt.toISOString(),
  };
}

export const testResultSchema = z.object({
  name: z.string(),
  passed: z.boolean(),
  failures: z.array(z.string()).describe('What did not match the expectation.'),
  status: z.enum(SANDBOX_STATUSES),
  output: z.string().nullable().describe('The output as UTF-8, when it is valid UTF-8.'),
  outputBase64: z.string(),
  error: z.object({ message: z.string() }).nullable(),
  fuelUsed: z.number(),
  memoryPeakBytes: z.number(),
  durationMs: z.number(),
  logs: z.array(z.object({ level: z.string(), message: z.string(), atMs: z.number() })),
});

export const testRunSchema = z.object({ passed: z.boolean(), results: z.array(testResultSchema) });
