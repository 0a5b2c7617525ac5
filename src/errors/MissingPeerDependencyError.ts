import { guardFor, M28Error } from './M28Error.js';

/** An optional peer dependency is needed for what was asked, and is not installed. */
export class MissingPeerDependencyError extends M28Error {
  /** The npm package to install. */
  readonly packageName: string;

  constructor(packageName: string, purpose: string, cause?: unknown) {
    super(
      'M28_MISSING_PEER_DEPENDENCY',
      `${purpose} needs the optional package "${packageName}": run npm install ${packageName}`,
      { cause },
    );
    this.packageName = packageName;
  }
}

/** True when `error` is a {@link MissingPeerDependencyError}. */
export const isMissingPeerDependencyError = guardFor<MissingPeerDependencyError>(
  'M28_MISSING_PEER_DEPENDENCY',
);
