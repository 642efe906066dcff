/**
 * The price catalog: the bundled `resources/prices.json` (list prices in USD per 1M tokens,
 * with the catalog's source and date), the user's overrides, and the lookup that turns
 * whatever model name a provider reports (dated, prefixed, aliased) into one price.
 */
import bundledPricesJson from '../../../resources/prices.json' with { type: 'json' };

/** Rates in USD per 1,000,000 tokens. */
export interface PriceRates {
  input: number;
  /** Cache reads; absent means cached tokens cost the full input rate. */
  cachedInput?: number;
  /** 5-minute cache writes (Anthropic); absent means writes cost the input rate. */
  cacheWrite?: number;
  /** 1-hour cache writes (Anthropic); absent means the 5-minute write rate. */
  cacheWrite1h?: number;
  /** Output tokens, reasoning and thinking tokens included. */
  output: number;
}

/** Different rates once a request's prompt is longer than a threshold (e.g. Gemini 2.5 Pro above 200k). */
export interface LongContextRates extends PriceRates {
  /** The higher rates apply when `inputTokens` is strictly greater than this. */
  aboveInputTokens: number;
}

export interface ModelPrice extends PriceRates {
  /** The catalog or override key the price was found under. */
  model: string;
  provider: string | null;
  longContext?: LongContextRates;
  origin: 'catalog' | 'override';
}

export interface CatalogEntry extends PriceRates {
  provider: string;
  aliases?: string[];
  longContext?: LongContextRates;
  note?: string;
}

export interface PriceCatalog {
  source: string;
  /** ISO date the prices were read. */
  date: string;
  models: Record<string, CatalogEntry>;
}

/**
 * A user's price for one model or for every model of a provider. Keys are `model`,
 * `provider/model` or `provider/*` (e.g. `ollama/*` priced at zero for a local server).
 * Over a catalog model, any subset of the rates may be given; for a model the catalog
 * does not know, `input` and `output` are required (an entry without them is ignored).
 */
export type PriceOverride = Partial<PriceRates> & { longContext?: LongContextRates };
export type PriceOverrides = Record<string, PriceOverride>;

export interface PriceQuery {
  /** The provider id the request went to (`openai`, `anthropic`, `ollama` …), if known. */
  provider?: string | null;
  model: string;
}

const RATE_FIELDS = ['input', 'cachedInput', 'cacheWrite', 'cacheWrite1h', 'output'] as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readRate(entry: Record<string, unknown>, field: string, context: string, required: boolean): number | undefined {
  const value = entry[field];
  if (value === undefined || value === null) {
    if (required) throw new Error(`${context}: "${field}" is required`);
    return undefined;
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new Error(`${context}: "${field}" must be a non-negative number of USD per 1M tokens`);
  }
  return value;
}

function readRates(entry: Record<string, unknown>, context: string): PriceRates {
  const rates: PriceRates = {
    input: readRate(entry, 'input', context, true) as number,
    output: readRate(entry, 'output', context, true) as number,
  };
  for (const field of ['cachedInput', 'cacheWrite', 'cacheWrite1h'] as const) {
    const value = readRate(entry, field, context, false);
    if (value !== undefined) rates[field] = value;
  }
  return rates;
}

function readLongContext(value: unknown, context: string): LongContextRates | undefined {
  if (value === undefined) return undefined;
  if (!isRecord(value)) throw new Error(`${context}: "longContext" must be an object`);
  const threshold = value.aboveInputTokens;
  if (typeof threshold !== 'number' || !Number.isInteger(threshold) || threshold < 0) {
    throw new Error(`${context}: "longContext.aboveInputTokens" must be a non-negative integer`);
  }
  return { aboveInputTokens: threshold, ...readRates(value, `${context} longContext`) };
}

/** Validates a catalog in the `resources/prices.json` format. Throws on the first malformed entry. */
export function parsePriceCatalog(json: unknown): PriceCatalog {
  if (!isRecord(json)) throw new Error('price catalog: expected an object');
  if (typeof json.source !== 'string' || typeof json.date !== 'string') {
    throw new Error('price catalog: "source" and "date" are required strings');
  }
  if (!isRecord(json.models)) throw new Error('price catalog: "models" must be an object');
  const models: Record<string, CatalogEntry> = {};
  for (const [name, raw] of Object.entries(json.models)) {
    const context = `price catalog model "${name}"`;
    if (!isRecord(raw)) throw new Error(`${context}: expected an object`);
    if (typeof raw.provider !== 'string') throw new Error(`${context}: "provider" is required`);
    const entry: CatalogEntry = { provider: raw.provider, ...readRates(raw, context) };
    const longContext = readLongContext(raw.longContext, context);
    if (longContext) entry.longContext = longContext;
    if (Array.isArray(raw.aliases)) entry.aliases = raw.aliases.filter((alias): alias is string => typeof alias === 'string');
    if (typeof raw.note === 'string') entry.note = raw.note;
    models[name.toLowerCase()] = entry;
  }
  return { source: json.source, date: json.date, models };
}

/**
 * Validates user overrides (e.g. read from settings). Entries are kept partial; whether an
 * entry is usable on its own is decided at lookup time.
 */
export function parsePriceOverrides(json: unknown): PriceOverrides {
  if (json === undefined || json === null) return {};
  if (!isRecord(json)) throw new Error('price overrides: expected an object keyed by model, provider/model or provider/*');
  const overrides: PriceOverrides = {};
  for (const [key, raw] of Object.entries(json)) {
    const context = `price override "${key}"`;
    if (!isRecord(raw)) throw new Error(`${context}: expected an object`);
    const override: PriceOverride = {};
    for (const field of RATE_FIELDS) {
      const value = readRate(raw, field, context, false);
      if (value !== undefined) override[field] = value;
    }
    const longContext = readLongContext(raw.longContext, context);
    if (longContext) override.longContext = longContext;
    overrides[key.toLowerCase()] = override;
  }
  return overrides;
}

let bundledCatalog: PriceCatalog | null = null;

/** The catalog shipped in `resources/prices.json`, parsed once. */
export function bundledPriceCatalog(): PriceCatalog {
  bundledCatalog ??= parsePriceCatalog(bundledPricesJson);
  return bundledCatalog;
}

const DATE_SUFFIXES = [
  /-\d{4}-\d{2}-\d{2}$/, // gpt-4.1-mini-2025-04-14
  /-\d{8}$/, // claude-sonnet-4-5-20250929
  /-\d{4}$/, // grok-4-0709
  /-\d{3}$/, // gemini-2.0-flash-001
  /-latest$/, // claude-3-5-haiku-latest
];

/**
 * The names a reported model may be listed under, most specific first: as given, without
 * a `models/` or provider prefix, without a date or version suffix, and with dotted
 * Claude versions (`claude-sonnet-4.5`, OpenRouter's spelling) dashed.
 */
export function candidateModelNames(model: string): string[] {
  const names: string[] = [];
  const add = (name: string): void => {
    if (name.length > 0 && !names.includes(name)) names.push(name);
  };
  const lower = model.trim().toLowerCase();
  add(lower);
  let base = lower.startsWith('models/') ? lower.slice('models/'.length) : lower;
  add(base);
  // Only the last path segment names the model: `openai/gpt-4.1`, `openrouter/anthropic/claude-…`.
  const slash = base.lastIndexOf('/');
  if (slash >= 0) base = base.slice(slash + 1);
  add(base);
  if (base.startsWith('claude')) base = base.replace(/(\d)\.(\d)/g, '$1-$2');
  add(base);
  for (const suffix of DATE_SUFFIXES) {
    if (suffix.test(base)) {
      add(base.replace(suffix, ''));
      break;
    }
  }
  return names;
}

function fromCatalogEntry(name: string, entry: CatalogEntry): ModelPrice {
  const price: ModelPrice = {
    model: name,
    provider: entry.provider,
    input: entry.input,
    output: entry.output,
    origin: 'catalog',
  };
  if (entry.cachedInput !== undefined) price.cachedInput = entry.cachedInput;
  if (entry.cacheWrite !== undefined) price.cacheWrite = entry.cacheWrite;
  if (entry.cacheWrite1h !== undefined) price.cacheWrite1h = entry.cacheWrite1h;
  if (entry.longContext) price.longContext = entry.longContext;
  return price;
}

function applyOverride(key: string, provider: string | null, override: PriceOverride, base: ModelPrice | null): ModelPrice | null {
  const merged: Partial<ModelPrice> = base ? { ...base } : {};
  for (const field of RATE_FIELDS) {
    const value = override[field];
    if (value !== undefined) merged[field] = value;
  }
  if (override.longContext) merged.longContext = override.longContext;
  if (merged.input === undefined || merged.output === undefined) return null;
  return {
    ...merged,
    input: merged.input,
    output: merged.output,
    model: key,
    provider: provider ?? base?.provider ?? null,
    origin: 'override',
  };
}

/** Builds an index from every catalog name and alias to its entry. */
function catalogIndex(catalog: PriceCatalog): Map<string, { name: string; entry: CatalogEntry }> {
  const index = new Map<string, { name: string; entry: CatalogEntry }>();
  for (const [name, entry] of Object.entries(catalog.models)) {
    index.set(name, { name, entry });
    for (const alias of entry.aliases ?? []) {
      const key = alias.toLowerCase();
      if (!index.has(key)) index.set(key, { name, entry });
    }
  }
  return index;
}

export interface PriceBook {
  /** The price that applies to this provider and model, or null when none is known. */
  lookup(query: PriceQuery): ModelPrice | null;
  catalog: PriceCatalog;
  overrides: PriceOverrides;
}

/**
 * Lookup order: an override for `provider/model`, then `model` (each spelling from
 * `candidateModelNames`), then `provider/*`, then the catalog. An override that only
 * changes some rates of a catalog model is merged over the catalog's price.
 */
export function createPriceBook(overrides: PriceOverrides = {}, catalog: PriceCatalog = bundledPriceCatalog()): PriceBook {
  const index = catalogIndex(catalog);
  const normalisedOverrides: PriceOverrides = {};
  for (const [key, value] of Object.entries(overrides)) normalisedOverrides[key.toLowerCase()] = value;
  const cache = new Map<string, ModelPrice | null>();

  function findInCatalog(names: string[]): ModelPrice | null {
    for (const name of names) {
      const found = index.get(name);
      if (found) return fromCatalogEntry(found.name, found.entry);
    }
    return null;
  }

  function resolve(query: PriceQuery): ModelPrice | null {
    const provider = query.provider ? query.provider.toLowerCase() : null;
    const names = candidateModelNames(query.model);
    const catalogPrice = findInCatalog(names);
    const overrideKeys: string[] = [];
    if (provider) for (const name of names) overrideKeys.push(`${provider}/${name}`);
    overrideKeys.push(...names);
    for (const key of overrideKeys) {
      const override = normalisedOverrides[key];
      if (override) {
        const price = applyOverride(key, provider, override, catalogPrice);
        if (price) return price;
      }
    }
    if (provider) {
      const providerWide = normalisedOverrides[`${provider}/*`];
      if (providerWide) {
        const price = applyOverride(`${provider}/*`, provider, providerWide, null);
        if (price) return price;
      }
    }
    return catalogPrice;
  }

  return {
    catalog,
    overrides: normalisedOverrides,
    lookup(query: PriceQuery): ModelPrice | null {
      const key = `${query.provider ?? ''}\u0000${query.model}`;
      if (cache.has(key)) return cache.get(key) ?? null;
      const price = resolve(query);
      cache.set(key, price);
      return price;
    },
  };
}

/** One-off lookup; prefer `createPriceBook` when pricing many requests (it caches). */
export function lookupPrice(query: PriceQuery, overrides: PriceOverrides = {}, catalog: PriceCatalog = bundledPriceCatalog()): ModelPrice | null {
  return createPriceBook(overrides, catalog).lookup(query);
}
