import { ByteReader } from './byte-reader.js';
import { decodeInstruction, Op, skipValueType } from './instruction-decoder.js';
import { WasmFormatError } from './wasm-format.error.js';

export const SectionId = {
  custom: 0,
  type: 1,
  import: 2,
  function: 3,
  table: 4,
  memory: 5,
  global: 6,
  export: 7,
  start: 8,
  element: 9,
  code: 10,
  data: 11,
  dataCount: 12,
  tag: 13,
} as const;

export type ExternalKind = 'function' | 'table' | 'memory' | 'global' | 'tag';
const EXTERNAL_KINDS: readonly ExternalKind[] = ['function', 'table', 'memory', 'global', 'tag'];

export interface Section {
  id: number;
  /** Offset of the section's content (after id and size). */
  start: number;
  end: number;
}

export interface Limits {
  /** The raw flags byte: bit 0 has-maximum, bit 1 shared, bit 2 64-bit. */
  flags: number;
  initial: bigint;
  maximum: bigint | undefined;
  shared: boolean;
  is64: boolean;
}

export interface ImportEntry {
  module: string;
  name: string;
  kind: ExternalKind;
  /** For functions: the type index. */
  typeIndex?: number;
  /** For memories and tables. */
  limits?: Limits;
}

export interface ExportEntry {
  name: string;
  kind: ExternalKind;
  index: number;
}

export interface FunctionType {
  /** Value type codes: 0x7f i32, 0x7e i64, 0x7d f32, 0x7c f64, 0x7b v128, references below. */
  params: number[];
  results: number[];
}

/** What the rewriter and the import policy need to know about a module. */
export interface ModuleLayout {
  bytes: Uint8Array;
  sections: Section[];
  types: FunctionType[];
  imports: ImportEntry[];
  /** Type index of each function defined in the module (not imported). */
  functionTypes: number[];
  tables: Limits[];
  memories: Limits[];
  exports: ExportEntry[];
  importedFunctionCount: number;
  importedGlobalCount: number;
  /** Globals the module defines (after the imported ones in the index space). */
  definedGlobalCount: number;
  /** The function the start section names, if any. */
  startFunction: number | undefined;
  /**
   * Whether a host function (an import) may be called other than directly: its index is in an element segment (a
   * table's, or declared for ref.func), a global's initializer or an export. Code can take the reference of only
   * those functions, so without one every indirect call reaches the module's own code.
   */
  hostFunctionReferenced: boolean;
}

const MAGIC_AND_VERSION = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

export function readLimits(reader: ByteReader): Limits {
  const flags = reader.byte();
  if (flags > 0x07) throw new WasmFormatError(`unknown limits flags 0x${flags.toString(16)}`);
  const is64 = (flags & 0x04) !== 0;
  const initial = is64 ? reader.u64() : BigInt(reader.u32());
  const maximum = flags & 0x01 ? (is64 ? reader.u64() : BigInt(reader.u32())) : undefined;
  return { flags, initial, maximum, shared: (flags & 0x02) !== 0, is64 };
}

/** Splits a module into sections and decodes the ones that describe its shape. */
export function readModuleLayout(bytes: Uint8Array): ModuleLayout {
  if (bytes.length < 8 || MAGIC_AND_VERSION.some((byte, i) => bytes[i] !== byte)) {
    throw new WasmFormatError('not a WebAssembly module (bad magic number or version)');
  }
  const layout: ModuleLayout = {
    bytes,
    sections: [],
    types: [],
    imports: [],
    functionTypes: [],
    tables: [],
    memories: [],
    exports: [],
    importedFunctionCount: 0,
    importedGlobalCount: 0,
    definedGlobalCount: 0,
    startFunction: undefined,
    hostFunctionReferenced: false,
  };
  // Functions whose references the module takes (see hostFunctionReferenced).
  const referenced: number[] = [];
  const reader = new ByteReader(bytes, 8);
  while (!reader.done) {
    const id = reader.byte();
    const size = reader.u32();
    const start = reader.offset;
    reader.skip(size);
    layout.sections.push({ id, start, end: start + size });
    const content = new ByteReader(bytes, start, start + size);
    switch (id) {
      case SectionId.type:
        readTypes(content, layout);
        break;
      case SectionId.import:
        readImports(content, layout);
        break;
      case SectionId.function:
        for (let count = content.u32(); count > 0; count--) layout.functionTypes.push(content.u32());
        break;
      case SectionId.table:
        for (let count = content.u32(); count > 0; count--) {
          // A table with an initial value (0x40 0x00, then its type, limits and an expression that could name a host
          // function) is not read here: refused rather than misread.
          if (content.peek() === 0x40) throw new WasmFormatError('a table with an initial value is not supported');
          skipValueType(content);
          layout.tables.push(readLimits(content));
        }
        break;
      case SectionId.memory:
        for (let count = content.u32(); count > 0; count--) layout.memories.push(readLimits(content));
        break;
      case SectionId.global:
        layout.definedGlobalCount = readGlobals(content, referenced);
        break;
      case SectionId.element:
        readElementSegments(content, referenced);
        break;
      case SectionId.start:
        layout.startFunction = content.u32();
        break;
      case SectionId.export:
        for (let count = content.u32(); count > 0; count--) {
          const name = content.name();
          const kind = EXTERNAL_KINDS[content.byte()];
          if (kind === undefined) throw new WasmFormatError(`export "${name}" has an unknown kind`);
          const index = content.u32();
          layout.exports.push({ name, kind, index });
          if (kind === 'function') referenced.push(index);
        }
        break;
      default:
        if (id > SectionId.tag) throw new WasmFormatError(`unknown section id ${id}`);
    }
  }
  layout.hostFunctionReferenced = referenced.some((index) => index < layout.importedFunctionCount);
  return layout;
}

/** Reads a constant expression up to its `end`, adding the functions it takes references of to `referenced`. */
function readConstantExpression(reader: ByteReader, referenced: number[]): void {
  for (;;) {
    const instruction = decodeInstruction(reader);
    if (instruction.opcode === Op.end) return;
    if (instruction.opcode === Op.refFunc) referenced.push(instruction.index);
  }
}

/** Reads the global section; returns how many globals it defines. */
function readGlobals(reader: ByteReader, referenced: number[]): number {
  const count = reader.u32();
  for (let i = 0; i < count; i++) {
    skipValueType(reader);
    reader.byte(); // mutability
    readConstantExpression(reader, referenced);
  }
  return count;
}

/**
 * Reads the element segments, adding the functions they name to `referenced`. Bit 0 of a segment's flags makes it
 * passive or declarative (no table, no offset), bit 1 gives an active one a table index, and bit 2 lists its
 * elements as expressions rather than function indices; a segment with bit 0 or 1 set says its element kind (or,
 * with expressions, its reference type).
 */
function readElementSegments(reader: ByteReader, referenced: number[]): void {
  for (let count = reader.u32(); count > 0; count--) {
    const flags = reader.u32();
    if (flags > 7) throw new WasmFormatError(`unknown element segment flags ${flags}`);
    const active = (flags & 1) === 0;
    const asExpressions = (flags & 4) !== 0;
    if (active && (flags & 2) !== 0) reader.u32(); // table index
    if (active) readConstantExpression(reader, referenced); // offset
    if ((flags & 3) !== 0) {
      if (asExpressions) skipValueType(reader);
      else reader.byte(); // element kind: funcref
    }
    for (let elements = reader.u32(); elements > 0; elements--) {
      if (asExpressions) readConstantExpression(reader, referenced);
      else referenced.push(reader.u32());
    }
  }
}

function readTypes(reader: ByteReader, layout: ModuleLayout): void {
  for (let count = reader.u32(); count > 0; count--) {
    const form = reader.byte();
    if (form !== 0x60) throw new WasmFormatError('only function types are supported (no garbage-collection types)');
    const params = readValueTypes(reader);
    const results = readValueTypes(reader);
    layout.types.push({ params, results });
  }
}

function readValueTypes(reader: ByteReader): number[] {
  const types: number[] = [];
  for (let count = reader.u32(); count > 0; count--) {
    types.push(reader.peek());
    skipValueType(reader);
  }
  return types;
}

function readImports(reader: ByteReader, layout: ModuleLayout): void {
  for (let count = reader.u32(); count > 0; count--) {
    const module = reader.name();
    const name = reader.name();
    const kindByte = reader.byte();
    const kind = EXTERNAL_KINDS[kindByte];
    if (kind === undefined) throw new WasmFormatError(`import "${module}" "${name}" has an unknown kind`);
    const entry: ImportEntry = { module, name, kind };
    switch (kind) {
      case 'function':
        entry.typeIndex = reader.u32();
        layout.importedFunctionCount++;
        break;
      case 'table':
        skipValueType(reader);
        entry.limits = readLimits(reader);
        break;
      case 'memory':
        entry.limits = readLimits(reader);
        break;
      case 'global':
        skipValueType(reader);
        reader.byte(); // mutability
        layout.importedGlobalCount++;
        break;
      case 'tag':
        reader.byte(); // attribute
        reader.u32();
        break;
    }
    layout.imports.push(entry);
  }
}

/** The number of parameters of defined function `definedIndex` (0 = first non-imported). */
export function paramCountOf(layout: ModuleLayout, definedIndex: number): number {
  const type = layout.types[layout.functionTypes[definedIndex] ?? -1];
  if (type === undefined) throw new WasmFormatError(`function ${definedIndex} has no valid type`);
  return type.params.length;
}
