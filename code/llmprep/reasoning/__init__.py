"""Reasoning models in code: a verifiable task, an imperfect solver, verifiers, and strategies.

- `task`: multi-step integer arithmetic problems with known answers, generated from a seed;
- `solver`: a seeded solver that writes its steps, with an explicit error model (slips that
  scatter, a trap that misleads every trace the same way);
- `verifiers`: an outcome verifier (ORM) and a process verifier (PRM) with stated error rates;
- `sampling`: single sample, majority vote (reusing `prompting.selfconsistency`), best-of-n;
- `search`: beam search over partial traces ranked by the PRM;
- `revision`: sequential self-revision under a thinking budget, with budget forcing;
- `experiments`: accuracy against compute, pass@k (reusing `production.evals.pass_at_k`);
- `grpo`: a GRPO toy on a policy over strategies: pass@1 up, pass@k at large k and entropy
  down, and a verifier loophole the policy learns;
- `figures`: the chapter's figures.

Leaves out: real models and tokens; every rate here is a parameter you can change.
"""
