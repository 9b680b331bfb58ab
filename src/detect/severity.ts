// How bad a finding is: its own module, so that the rules, the analyzers and notifications can
// name it without importing one another.

export type Severity = 'low' | 'medium' | 'high';
export const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high'];
