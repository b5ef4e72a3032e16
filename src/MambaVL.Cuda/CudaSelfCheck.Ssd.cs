// Selfcheck rows for the chunked SSD forward's two variants: the fused ssd_scan (rows "SsdScan chunked") and the
// chunk-parallel kernels (ssd_parallel.cu, the default; rows "SsdScan parallel"), each on the scan cases against the
// reference backend, the fused one against the recurrence, the parallel one against the fused on the GPU at a 2.7B-like
// head shape over several 256-token state chunks. The variant is restored after.
namespace MambaVL.Cuda;

public sealed partial class CudaSelfCheck
{
    /// <summary>The fused ssd_scan (one block walks the chunks) on the scan cases and against the recurrence at T = 1000.</summary>
    private void FusedScanChecks(IEnumerable<ScanCase> cases)
    {
        var saved = gpu.SsdVariant;
        try
        {
            gpu.SsdVariant = SsdKernel.Fused;
            foreach (var s in cases) ChunkedScan(s);
            ChunkedVersusRecurrence(1000, 8, 64, 128);
        }
        finally { gpu.SsdVariant = saved; }
    }

    private void ParallelScanChecks(IEnumerable<ScanCase> cases)
    {
        var (saved, savedHeads) = (gpu.SsdVariant, gpu.SsdHeadsPerBlock);
        try
        {
            gpu.SsdVariant = SsdKernel.Parallel;
            // both block shapes of the chunk state / scan: one head per block (the default) and two (where H/G is even)
            foreach (int hb in new[] { 1, 2 })
            {
                gpu.SsdHeadsPerBlock = hb;
                string label = hb == 1 ? "SsdScan parallel" : "SsdScan parallel hb2";
                foreach (var s in cases) ChunkedScan(s, label);
                ParallelVersusFused(1000, 8, 64, 128, label);
            }
            ParallelVersusFused(77, 4, 40, 24, "SsdScan parallel");
        }
        finally
        {
            (gpu.SsdVariant, gpu.SsdHeadsPerBlock) = (saved, savedHeads);
        }
    }

    /// <summary>The same inputs through both variants on the GPU: y and the final state.</summary>
    private void ParallelVersusFused(int t, int heads, int p, int n, string label)
    {
        var s = new ScanCase(t, heads, p, 1, n, 256, DMode: 1, Clamp: false, Sliced: true);
        var (wide, _, _, _, _, prm, state) = ScanInputs(s);
        var (gx, gb, gc, gdt) = ScanViews(gpu.Upload(wide), s);
        var onGpu = OnGpu(prm);
        (float[] Y, float[] State) Run(SsdKernel variant)
        {
            gpu.SsdVariant = variant;
            var st = gpu.Upload(Copy(state));
            var y = gpu.ToHost(gpu.SsdScan(gx, gdt, gb, gc, onGpu, st, 256));
            return (y, gpu.ToHost(st));
        }
        var fused = Run(SsdKernel.Fused);
        var parallel = Run(SsdKernel.Parallel);
        string shape = $"T={t} H={heads} P={p} G=1 N={n} slices";
        Add($"{label} vs fused", shape, "f32 (bf16x3 MMA)", parallel.Y, fused.Y);
        Add($"{label} vs fused state", shape, "f32 (bf16x3 MMA)", parallel.State, fused.State);
    }
}
