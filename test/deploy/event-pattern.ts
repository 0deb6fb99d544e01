// The EventBridge pattern matcher lives with the local tools (local/event-pattern.ts): the local runs deliver
// only the events the template's rules match, as EventBridge does.
export * from '../../local/event-pattern.ts';
