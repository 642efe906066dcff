/**
 * Limits and budgets in Settings and on Analytics: the rules (from the config file, or as
 * last saved in the app's settings) with each one's current use, and replacing them —
 * validated like the config file, applied to the running gateway at once, saved.
 */
import type { LimitRuleView, LimitsView, SharedStateStatus } from '../../shared/contract.js';
import { ConfigError } from '../gateway/config.js';
import { parseLimits } from '../gateway/policies/limits-config.js';
import type { LimitsPolicy } from '../gateway/policies/limits.js';
import { OperationError, isRecord } from './operation-error.js';
import type { OperationHandlers, ServiceContext } from './service-context.js';

export async function limitsView(limits: LimitsPolicy, sharedState: SharedStateStatus): Promise<LimitsView> {
  const usage = await limits.usage();
  return {
    rules: limits.currentRules.map((rule) => rule.input),
    usage: usage.map(({ rule, ...use }) => ({
      index: rule.index,
      label: rule.label,
      rule: rule.input,
      requestsPerMinute: rule.requestsPerMinute,
      requestsThisMinute: use.requestsThisMinute,
      tokensPerMinute: rule.tokensPerMinute,
      tokensThisMinute: use.tokensThisMinute,
      usdPerDayNanoUsd: rule.usdPerDayNano,
      spentTodayNanoUsd: use.spentTodayNanoUsd,
      usdPerMonthNanoUsd: rule.usdPerMonthNano,
      spentThisMonthNanoUsd: use.spentThisMonthNanoUsd,
    })),
    ...limits.periods(),
    sharedState,
  };
}

export function createLimitsService(context: ServiceContext, limits: LimitsPolicy): Pick<OperationHandlers, 'limits.get' | 'limits.update'> {
  return {
    'limits.get': async () => limitsView(limits, context.sharedState.status()),
    'limits.update': async (input) => {
      if (!isRecord(input) || !Array.isArray(input.rules)) throw new OperationError('limits.update takes { rules: [...] }');
      let rules;
      try {
        rules = parseLimits(input.rules);
      } catch (error) {
        if (error instanceof ConfigError) throw new OperationError(error.message);
        throw error;
      }
      // Spend already handed to the writer is in the log before a new rule reads it.
      await context.requestLog.committed();
      await limits.setRules(rules);
      context.config.limits = rules;
      context.settings.update((settings) => {
        settings.limits = rules.map((rule) => rule.input as LimitRuleView);
      });
      return limitsView(limits, context.sharedState.status());
    },
  };
}
