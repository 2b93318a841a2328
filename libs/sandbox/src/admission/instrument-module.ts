import { ByteReader } from '../wasm/byte-reader.js';
import { ByteWriter } from '../wasm/byte-writer.js';
import { decodeInstruction, Op, skipValueType } from '../wasm/instruction-decoder.js';
import { type Limits, type ModuleLayout, paramCountOf, readLimits, SectionId } from '../wasm/module-layout.js';
import { WasmFormatError } from '../wasm/wasm-format.error.js';
import { meterFunctionBody, type MeteringGlobals } from './fuel-metering.js';

/** The module the host provides the metering globals from. */
export const SANDBOX_IMPORT_MODULE = 'airlock:sandbox';
export const FUEL_GLOBAL = 'fuel';
export const FLAGS_GLOBAL = 'flags';

export interface InstrumentOptions {
  /** The memory's new maximum, in 64 KiB pages. */
  memoryMaxPages: number;
  /** Every table's new maximum, in elements. */
  tableMaxElements: number;
}

/** Sections in their required order, to know where a section the module lacks must go. */
const SECTION_ORDER: number[] = [
  SectionId.type,
  SectionId.import,
  SectionId.function,
  SectionId.table,
  SectionId.memory,
  SectionId.tag,
  SectionId.global,
  SectionId.export,
  SectionId.start,
  SectionId.element,
  SectionId.dataCount,
  SectionId.code,
  SectionId.data,
];

/**
 * Produces the module Airlock runs: two globals imported from `airlock:sandbox`
 * (fuel, flags), fuel metering in every function, the memory and tables capped.
 * Custom sections (names, debug info) are dropped. Deterministic: the same
 * input and options always give the same bytes.
 */
export function instrumentModule(layout: ModuleLayout, options: InstrumentOptions): Uint8Array {
  const shift = 2; // the two imported globals come after the module's own imported ones
  const globals: MeteringGlobals = {
    fuel: layout.importedGlobalCount,
    flags: layout.importedGlobalCount + 1,
    remap: (index) => (index < layout.importedGlobalCount ? index : index + shift),
  };
  const { bytes } = layout;
  const out = new ByteWriter().bytes(bytes.subarray(0, 8));
  const emit = (id: number, content: ByteWriter) => out.byte(id).sized(content);

  for (const sectionId of SECTION_ORDER) {
    const section = layout.sections.find((candidate) => candidate.id === sectionId);
    if (section === undefined) {
      if (sectionId === SectionId.import) emit(SectionId.import, importSection(undefined, bytes));
      continue;
    }
    const reader = new ByteReader(bytes, section.start, section.end);
    switch (sectionId) {
      case SectionId.import:
        emit(sectionId, importSection(reader, bytes));
        break;
      case SectionId.table:
        emit(sectionId, tableSection(reader, options.tableMaxElements));
        break;
      case SectionId.memory:
        emit(sectionId, memorySection(reader, options.memoryMaxPages));
        break;
      case SectionId.global:
        emit(sectionId, globalSection(reader, globals));
        break;
      case SectionId.export:
        emit(sectionId, exportSection(reader, globals));
        break;
      case SectionId.element:
        emit(sectionId, elementSection(reader, globals));
        break;
      case SectionId.data:
        emit(sectionId, dataSection(reader, globals));
        break;
      case SectionId.code:
        emit(sectionId, codeSection(reader, layout, globals));
        break;
      default:
        out.byte(sectionId).u32(section.end - section.start).bytes(bytes.subarray(section.start, section.end));
    }
  }
  return out.toBytes();
}

function importSection(reader: ByteReader | undefined, bytes: Uint8Array): ByteWriter {
  const content = new ByteWriter();
  const count = reader?.u32() ?? 0;
  content.u32(count + 2);
  if (reader !== undefined) content.bytes(bytes.subarray(reader.offset, reader.end));
  content.name(SANDBOX_IMPORT_MODULE).name(FUEL_GLOBAL).byte(0x03).byte(0x7e).byte(0x01);
  content.name(SANDBOX_IMPORT_MODULE).name(FLAGS_GLOBAL).byte(0x03).byte(0x7f).byte(0x01);
  return content;
}

function writeCappedLimits(content: ByteWriter, limits: Limits, cap: number): void {
  // Callers have refused shared and 64-bit limits already.
  const maximum = limits.maximum === undefined ? cap : Math.min(Number(limits.maximum), cap);
  content.byte(0x01).u32(Number(limits.initial)).u32(maximum);
}

function tableSection(reader: ByteReader, cap: number): ByteWriter {
  const content = new ByteWriter();
  const count = reader.u32();
  content.u32(count);
  for (let i = 0; i < count; i++) {
    const typeStart = reader.offset;
    skipValueType(reader);
    content.bytes(reader.bytes.subarray(typeStart, reader.offset));
    writeCappedLimits(content, readLimits(reader), cap);
  }
  return content;
}

function memorySection(reader: ByteReader, cap: number): ByteWriter {
  const content = new ByteWriter();
  const count = reader.u32();
  content.u32(count);
  for (let i = 0; i < count; i++) writeCappedLimits(content, readLimits(reader), cap);
  return content;
}

/** Copies a constant expression, renumbering the globals it reads. */
function copyConstantExpression(reader: ByteReader, content: ByteWriter, globals: MeteringGlobals): void {
  for (;;) {
    const instruction = decodeInstruction(reader);
    if (instruction.opcode === Op.globalGet) content.byte(Op.globalGet).u32(globals.remap(instruction.index));
    else content.bytes(reader.bytes.subarray(instruction.start, instruction.end));
    if (instruction.opcode === Op.end) return;
  }
}

function globalSection(reader: ByteReader, globals: MeteringGlobals): ByteWriter {
  const content = new ByteWriter();
  const count = reader.u32();
  content.u32(count);
  for (let i = 0; i < count; i++) {
    const typeStart = reader.offset;
    skipValueType(reader);
    reader.byte(); // mutability
    content.bytes(reader.bytes.subarray(typeStart, reader.offset));
    copyConstantExpression(reader, content, globals);
  }
  return content;
}

function exportSection(reader: ByteReader, globals: MeteringGlobals): ByteWriter {
  const content = new ByteWriter();
  const count = reader.u32();
  content.u32(count);
  for (let i = 0; i < count; i++) {
    const name = reader.name();
    const kind = reader.byte();
    const index = reader.u32();
    content.name(name).byte(kind).u32(kind === 0x03 ? globals.remap(index) : index);
  }
  return content;
}

function copyU32Vector(reader: ByteReader, content: ByteWriter): void {
  const count = reader.u32();
  content.u32(count);
  for (let i = 0; i < count; i++) content.u32(reader.u32());
}

function elementSection(reader: ByteReader, globals: MeteringGlobals): ByteWriter {
  const content = new ByteWriter();
  const count = reader.u32();
  content.u32(count);
  for (let i = 0; i < count; i++) {
    const flags = reader.u32();
    content.u32(flags);
    if (flags > 7) throw new WasmFormatError(`unknown element segment flags ${flags}`);
    const explicitTable = (flags & 0x03) === 0x02;
    const passiveOrDeclarative = (flags & 0x01) !== 0;
    const usesExpressions = (flags & 0x04) !== 0;
    if (explicitTable) content.u32(reader.u32());
    if (!passiveOrDeclarative) copyConstantExpression(reader, content, globals);
    if (flags !== 0 && flags !== 4) {
      // element kind (0x00) or reference type
      const typeStart = reader.offset;
      if (usesExpressions) skipValueType(reader);
      else reader.byte();
      content.bytes(reader.bytes.subarray(typeStart, reader.offset));
    }
    if (usesExpressions) {
      const items = reader.u32();
      content.u32(items);
      for (let item = 0; item < items; item++) copyConstantExpression(reader, content, globals);
    } else {
      copyU32Vector(reader, content);
    }
  }
  return content;
}

function dataSection(reader: ByteReader, globals: MeteringGlobals): ByteWriter {
  const content = new ByteWriter();
  const count = reader.u32();
  content.u32(count);
  for (let i = 0; i < count; i++) {
    const flags = reader.u32();
    content.u32(flags);
    if (flags === 2) content.u32(reader.u32());
    if (flags === 0 || flags === 2) copyConstantExpression(reader, content, globals);
    else if (flags !== 1) throw new WasmFormatError(`unknown data segment flags ${flags}`);
    const length = reader.u32();
    content.u32(length).bytes(reader.take(length));
  }
  return content;
}

function codeSection(reader: ByteReader, layout: ModuleLayout, globals: MeteringGlobals): ByteWriter {
  const content = new ByteWriter();
  const count = reader.u32();
  if (count !== layout.functionTypes.length) throw new WasmFormatError('function and code sections disagree');
  content.u32(count);
  for (let i = 0; i < count; i++) {
    const size = reader.u32();
    const body = reader.take(size);
    const metered = meterFunctionBody(
      body,
      { paramCount: paramCountOf(layout, i), importedFunctionCount: layout.importedFunctionCount },
      globals,
    );
    content.u32(metered.length).bytes(metered);
  }
  return content;
}
