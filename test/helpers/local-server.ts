// Moved to scripts/local-aws/ (the demo serves the sample's keys with it too); kept here for the tests' imports.
export * from '../../scripts/local-aws/local-server.js';
