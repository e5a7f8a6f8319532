using System.Runtime.CompilerServices;

// The tests (tests/LoaderBench.Tests) read the comparison's rows and the peers' JSON through the internal types.
[assembly: InternalsVisibleTo("LoaderBench.Tests")]
