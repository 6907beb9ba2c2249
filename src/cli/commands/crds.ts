/** `topas crds`: the CustomResourceDefinitions topas needs, as YAML for `kubectl apply -f -`. */
import type { Command } from 'commander';
import { crdsYaml } from '../../kubernetes/deploy-files.js';
import type { CliContext } from '../context.js';

export function registerCrds(program: Command, ctx: CliContext): void {
  program
    .command('crds')
    .description('print the CustomResourceDefinitions topas uses (TestRun, App) as YAML: topas crds | kubectl apply -f -')
    .action(() => {
      ctx.out(crdsYaml().trimEnd());
    });
}
