/**
 * OpenAI `reasoning_effort` → Gemini `thinkingConfig`, declared as data per model family.
 *
 * Gemini 2.5 models take a token budget; Gemini 3 models take a level (they still accept a
 * budget, but Google recommends the level). Thoughts are requested (`includeThoughts`)
 * whenever thinking is on, so they come back as `reasoning_content`.
 *
 * | effort  | 2.5 Flash / Flash-Lite | 2.5 Pro | 3 Pro | 3 Flash and later |
 * |---------|------------------------|---------|-------|-------------------|
 * | none    | 0 (off)                | 128 ¹   | LOW ¹ | MINIMAL ¹         |
 * | minimal | 512                    | 512     | LOW   | MINIMAL           |
 * | low     | 1024                   | 1024    | LOW   | LOW               |
 * | medium  | 8192                   | 8192    | HIGH  | MEDIUM            |
 * | high    | 24576                  | 24576   | HIGH  | HIGH              |
 * | xhigh   | 24576                  | 32768   | HIGH  | HIGH              |
 *
 * ¹ The model cannot turn thinking off: the smallest setting is sent, thoughts are not
 *   requested, and a warning is recorded. Gemini 1.x and 2.0 do not think: the parameter
 *   is dropped with a warning. Unknown newer models get the 2.5 Flash budgets.
 */
import type { RequestWarning } from '../../types.js';
import type { GeminiThinkingConfig } from './wire-types.js';

type Effort = 'none' | 'minimal' | 'low' | 'medium' | 'high' | 'xhigh';
const EFFORTS: readonly Effort[] = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh'];

interface ThinkingRule {
  /** Matched against the upstream model name. */
  match: RegExp;
  budgets?: Record<Effort, number>;
  levels?: Record<Effort, NonNullable<GeminiThinkingConfig['thinkingLevel']>>;
  /** The model cannot stop thinking: `none` maps to the smallest setting. */
  alwaysThinks?: boolean;
  /** The model does not think at all. */
  noThinking?: boolean;
}

const FLASH_BUDGETS: Record<Effort, number> = { none: 0, minimal: 512, low: 1024, medium: 8192, high: 24576, xhigh: 24576 };

export const THINKING_RULES: readonly ThinkingRule[] = [
  { match: /^gemini-(1\.|2\.0)/, noThinking: true },
  { match: /^gemini-2\.5-pro/, budgets: { none: 128, minimal: 512, low: 1024, medium: 8192, high: 24576, xhigh: 32768 }, alwaysThinks: true },
  { match: /^gemini-2\.5/, budgets: FLASH_BUDGETS },
  { match: /^gemini-3(\.\d+)?-pro/, levels: { none: 'LOW', minimal: 'LOW', low: 'LOW', medium: 'HIGH', high: 'HIGH', xhigh: 'HIGH' }, alwaysThinks: true },
  { match: /^gemini-[3-9]/, levels: { none: 'MINIMAL', minimal: 'MINIMAL', low: 'LOW', medium: 'MEDIUM', high: 'HIGH', xhigh: 'HIGH' }, alwaysThinks: true },
  { match: /./, budgets: FLASH_BUDGETS },
];

function effortOf(value: string): Effort | null {
  const lower = value.toLowerCase();
  if ((EFFORTS as readonly string[]).includes(lower)) return lower as Effort;
  if (lower === 'max') return 'xhigh';
  return null;
}

/** The thinkingConfig for a reasoning effort, or undefined (with a warning) when there is none. */
export function thinkingConfigFor(model: string, reasoningEffort: string, warnings: RequestWarning[]): GeminiThinkingConfig | undefined {
  const effort = effortOf(reasoningEffort);
  if (effort === null) {
    warnings.push({ type: 'unsupported-parameter', parameter: 'reasoning_effort', message: `reasoning_effort dropped: '${reasoningEffort}' is not one of ${EFFORTS.join(', ')}` });
    return undefined;
  }
  const rule = THINKING_RULES.find((candidate) => candidate.match.test(model))!;
  if (rule.noThinking) {
    warnings.push({ type: 'unsupported-parameter', parameter: 'reasoning_effort', message: `reasoning_effort dropped: ${model} does not think` });
    return undefined;
  }
  if (effort === 'none' && rule.alwaysThinks) {
    warnings.push({ type: 'other', parameter: 'reasoning_effort', message: `reasoning_effort 'none': ${model} cannot turn thinking off; its smallest setting is used` });
  }
  const thinking = effort !== 'none';
  const config: GeminiThinkingConfig = {};
  if (thinking) config.includeThoughts = true;
  if (rule.levels) config.thinkingLevel = rule.levels[effort];
  else config.thinkingBudget = rule.budgets![effort];
  return config;
}
