"""lambdabox python runtime client: the entry point the runtime command runs.

The client itself is the module `_lambdabox_bootstrap` next to this file. Python compiles the
script it is started with at every start but loads an imported module's cached bytecode, and
lambdabox byte-compiles that module for each host interpreter when it installs the clients
(`runtime::precompile`), so a cold start does not spend milliseconds compiling the client.
"""

import _lambdabox_bootstrap

if __name__ == "__main__":
    _lambdabox_bootstrap.main()
