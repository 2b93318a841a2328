import { ByteReader } from '../wasm/byte-reader.js';
import { ByteWriter } from '../wasm/byte-writer.js';
import { skipValueType } from '../wasm/instruction-decoder.js';
import { type Limits, type ModuleLayout, paramCountOf, readLimits, SectionId } from '../wasm/module-layout.js';
import { meterFunctionBody, type MeteringGlobals } from './fuel-metering.js';

/** Exports the sandbox adds; a module may not use names with this prefix. */
export const RESERVED_EXPORT_PREFIX = '__airlock_';
/** Remaining fuel (i64): the host sets it before a call and reads it after. */
export const FUEL_EXPORT = '__airlock_fuel';
/** Flags the module raises for the host (i32), see FLAG_MEMORY_GROW_FAILED. */
export const FLAGS_EXPORT = '__airlock_flags';
/** The module's start function, which the host calls itself once the fuel is set. */
export const START_EXPORT = '__airlock_start';
/**
 * The module's memory (memory 0; admission allows one, defined in the module),
 * exported whether or not the module exports it itself, so that the host can
 * always see how large it is (the executor's instance cache is bounded by it).
 */
export const MEMORY_EXPORT = '__airlock_memory';
/**
 * A custom section of the module Airlock runs: the indices (u32 count, then
 * each) of the functions that keep their fuel count in a local, written back
 * around calls and as they return. A trap the engine raises inside one of them
 * (an out-of-bounds access, a division by zero) skips the write-back, so the
 * host cannot know the fuel it used and charges the call's whole budget.
 */
export const LOCAL_FUEL_SECTION = 'airlock.local_fuel';

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

const EXPORT_KIND_FUNCTION = 0x00;
const EXPORT_KIND_MEMORY = 0x02;
const EXPORT_KIND_GLOBAL = 0x03;

/**
 * Produces the module Airlock runs: two exported globals for the metering
 * (fuel, flags), fuel metering in every function, the memory and tables capped,
 * and the start function exported instead of run at instantiation, so that it
 * runs under a fuel budget the host has set and can read back. Custom sections
 * (names, debug info) are dropped, and LOCAL_FUEL_SECTION added. Deterministic:
 * the same input and options always give the same bytes.
 */
export function instrumentModule(layout: ModuleLayout, options: InstrumentOptions): Uint8Array {
  // The new globals go after every existing one, so no index changes.
  const fuelIndex = layout.importedGlobalCount + layout.definedGlobalCount;
  const globals: MeteringGlobals = { fuel: fuelIndex, flags: fuelIndex + 1 };
  const { bytes } = layout;
  const countingLocally: number[] = [];
  const out = new ByteWriter().bytes(bytes.subarray(0, 8));
  const emit = (id: number, content: ByteWriter) => out.byte(id).sized(content);

  for (const sectionId of SECTION_ORDER) {
    const section = layout.sections.find((candidate) => candidate.id === sectionId);
    const reader = section === undefined ? undefined : new ByteReader(bytes, section.start, section.end);
    switch (sectionId) {
      case SectionId.table:
        if (reader) emit(sectionId, tableSection(reader, options.tableMaxElements));
        break;
      case SectionId.memory:
        if (reader) emit(sectionId, memorySection(reader, options.memoryMaxPages));
        break;
      case SectionId.global:
        emit(sectionId, globalSection(reader));
        break;
      case SectionId.export:
        emit(sectionId, exportSection(reader, globals, layout.startFunction, layout.memories.length > 0));
        break;
      case SectionId.start:
        break; // exported as START_EXPORT instead
      case SectionId.code:
        if (reader) emit(sectionId, codeSection(reader, layout, globals, countingLocally));
        break;
      default:
        if (section) out.byte(sectionId).u32(section.end - section.start).bytes(bytes.subarray(section.start, section.end));
    }
  }
  // Custom sections may come last, after the data section.
  const localFuel = new ByteWriter().name(LOCAL_FUEL_SECTION).u32(countingLocally.length);
  for (const index of countingLocally) localFuel.u32(index);
  out.byte(0).sized(localFuel);
  return out.toBytes();
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

/** The module's globals, then fuel (mutable i64) and flags (mutable i32), both starting at 0. */
function globalSection(reader: ByteReader | undefined): ByteWriter {
  const content = new ByteWriter();
  const count = reader?.u32() ?? 0;
  content.u32(count + 2);
  if (reader) content.bytes(reader.bytes.subarray(reader.offset, reader.end));
  content.byte(0x7e).byte(0x01).byte(0x42).byte(0x00).byte(0x0b); // i64 mut = i64.const 0
  content.byte(0x7f).byte(0x01).byte(0x41).byte(0x00).byte(0x0b); // i32 mut = i32.const 0
  return content;
}

/**
 * The module's exports (a memory it exports as `memory` keeps that name: WASI
 * and Extism look it up there), then the metering globals, the start function
 * and the memory under reserved names.
 */
function exportSection(reader: ByteReader | undefined, globals: MeteringGlobals, startFunction: number | undefined, definesMemory: boolean): ByteWriter {
  const content = new ByteWriter();
  const count = reader?.u32() ?? 0;
  content.u32(count + 2 + (startFunction === undefined ? 0 : 1) + (definesMemory ? 1 : 0));
  if (reader) content.bytes(reader.bytes.subarray(reader.offset, reader.end));
  content.name(FUEL_EXPORT).byte(EXPORT_KIND_GLOBAL).u32(globals.fuel);
  content.name(FLAGS_EXPORT).byte(EXPORT_KIND_GLOBAL).u32(globals.flags);
  if (startFunction !== undefined) content.name(START_EXPORT).byte(EXPORT_KIND_FUNCTION).u32(startFunction);
  if (definesMemory) content.name(MEMORY_EXPORT).byte(EXPORT_KIND_MEMORY).u32(0);
  return content;
}

/** The code, metered; the index of each function that counts its fuel in a local goes to `countingLocally`. */
function codeSection(reader: ByteReader, layout: ModuleLayout, globals: MeteringGlobals, countingLocally: number[]): ByteWriter {
  const content = new ByteWriter();
  const count = reader.u32();
  content.u32(count);
  for (let i = 0; i < count; i++) {
    const size = reader.u32();
    const body = reader.take(size);
    const metered = meterFunctionBody(
      body,
      {
        paramCount: paramCountOf(layout, i),
        results: layout.types[layout.functionTypes[i]!]!.results,
        importedFunctionCount: layout.importedFunctionCount,
        hostFunctionReferenced: layout.hostFunctionReferenced,
      },
      globals,
    );
    if (metered.countsLocally) countingLocally.push(layout.importedFunctionCount + i);
    content.u32(metered.body.length).bytes(metered.body);
  }
  return content;
}
