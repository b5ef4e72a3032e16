// BenchmarkDotNet entry point for the CPU kernels (run by hand: dotnet run -c Release --project bench/MambaVL.Bench).
using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(MambaVL.Bench.LinearBenchmarks).Assembly).Run(args);
