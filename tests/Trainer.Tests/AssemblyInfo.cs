// libtorch's global random generator is shared by every thread: tests that seed it and then build a model must not
// interleave with other tests drawing from it. Two cores gain little from parallel tests anyway.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
