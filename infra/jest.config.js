/** Tests are TypeScript compiled by swc (type checking is `tsc --noEmit`, a separate step). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.tsx?$': ['@swc/jest'],
  },
  // Each worker loads aws-cdk-lib (seconds of CPU): on two cores, two workers at most.
  maxWorkers: 2,
};
