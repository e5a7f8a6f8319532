// The GPU half of the augment operator: one launch per batch turns each decoded crop (interleaved RGB, uint8, in
// device memory) into a finished sample: antialiased bilinear resize, horizontal flip, normalization, written as
// fp32 / fp16 / bf16 (or raw uint8) in CHW or HWC straight into the batch tensor.
//
// The resize is PIL's (and the CPU path's): a triangle filter whose support is stretched by the scale factor when
// downscaling, centred at box.x + (i + 0.5) * box.width / outWidth, taps clamped to the decoded region, weights
// normalized. Computed in fp32 in one pass (PIL rounds to uint8 between its two passes: we differ by < 1/255).
//
// Compiled at run time by NVRTC (no includes, no CUDA headers): see KernelCompiler.cs. Syntax-check without a GPU:
//   clang -x cuda --cuda-device-only --cuda-gpu-arch=sm_90 -nocudainc -nocudalib -S -o /dev/null augment.cu
//
// The two structs below are mirrored byte for byte by GpuSampleParams.cs and GpuBatchParams.cs; tests check the
// C# offsets against the offsets written here.

#if defined(__clang__) && !defined(__CUDACC_RTC__)
// Only for the clang syntax check above (-nocudainc leaves out the CUDA headers that define these).
#include <__clang_cuda_builtin_vars.h>
#define __device__ __attribute__((device))
#define __global__ __attribute__((global))
#define __forceinline__ __inline__ __attribute__((always_inline))
#endif

struct SampleParams {            // 48 bytes
    unsigned long long source;   //  0: device pointer to the decoded region (RGB interleaved, uint8)
    int sourcePitch;             //  8: bytes per row of the region
    int sourceWidth;             // 12: region width in pixels: taps are clamped to [0, sourceWidth)
    int sourceHeight;            // 16: region height in pixels
    int flip;                    // 20: 1 = mirror horizontally
    float boxX;                  // 24: the sampled box, in region pixels (PIL's resize box)
    float boxY;                  // 28:
    float boxWidth;              // 32:
    float boxHeight;             // 36:
    int skip;                    // 40: 1 = already written by the CPU fallback; leave the slot alone
    int reserved;                // 44:
};

struct BatchParams {             // 72 bytes
    const SampleParams* samples; //  0: device array of count SampleParams
    unsigned long long output;   //  8: device pointer to sample 0 of the batch
    long long sampleStride;      // 16: bytes from one sample to the next
    int count;                   // 24:
    int outWidth;                // 28:
    int outHeight;               // 32:
    int pixelType;               // 36: 0 fp32, 1 fp16, 2 bf16, 3 uint8 (Loader.Augment.PixelType)
    int layout;                  // 40: 0 CHW, 1 HWC (Loader.Augment.PixelLayout)
    float scale[3];              // 44: 1 / (255 * std[c]); 1 for uint8
    float bias[3];               // 56: -mean[c] / std[c]; 0 for uint8
};                               // 68, padded to 72 by the 8-byte alignment

static __device__ __forceinline__ float triangle(float x) {
    x = x < 0.0f ? -x : x;
    return x < 1.0f ? 1.0f - x : 0.0f;
}

static __device__ __forceinline__ unsigned short to_half(float value) {
    unsigned short bits;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(bits) : "f"(value));
    return bits;
}

static __device__ __forceinline__ unsigned short to_bfloat16(float value) {
    // Round to nearest even on the upper 16 bits (values here are finite).
    union { float f; unsigned int u; } v;
    v.f = value;
    unsigned int u = v.u + 0x7FFFu + ((v.u >> 16) & 1u);
    return (unsigned short)(u >> 16);
}

// Taps of output coordinate i along one axis, as PIL computes them (precompute_coeffs in Resample.c).
struct Taps {
    int first;
    int last;       // exclusive
    float center;
    float inverseScale;
};

static __device__ __forceinline__ Taps taps_for(int i, float boxStart, float boxSize, int outSize, int sourceSize) {
    const float scale = boxSize / (float)outSize;
    const float filterScale = scale < 1.0f ? 1.0f : scale;
    const float support = filterScale;  // bilinear support 1.0, stretched when downscaling
    Taps t;
    t.center = boxStart + ((float)i + 0.5f) * scale;
    t.first = (int)(t.center - support + 0.5f);
    if (t.first < 0) t.first = 0;
    t.last = (int)(t.center + support + 0.5f);
    if (t.last > sourceSize) t.last = sourceSize;
    t.inverseScale = 1.0f / filterScale;
    return t;
}

extern "C" __global__ void augment_batch(const BatchParams p) {
    const int sampleIndex = blockIdx.y;
    if (sampleIndex >= p.count) return;
    const SampleParams s = p.samples[sampleIndex];
    if (s.skip) return;

    const int pixels = p.outWidth * p.outHeight;
    const unsigned char* source = (const unsigned char*)s.source;
    unsigned char* output = (unsigned char*)(p.output + (unsigned long long)(p.sampleStride * sampleIndex));

    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < pixels; i += gridDim.x * blockDim.x) {
        const int ox = i % p.outWidth;
        const int oy = i / p.outWidth;
        // A flipped sample's column ox shows the source column the unflipped sample has at outWidth - 1 - ox.
        const int sx = s.flip ? p.outWidth - 1 - ox : ox;
        const Taps tx = taps_for(sx, s.boxX, s.boxWidth, p.outWidth, s.sourceWidth);
        const Taps ty = taps_for(oy, s.boxY, s.boxHeight, p.outHeight, s.sourceHeight);

        float sumX = 0.0f;
        for (int x = tx.first; x < tx.last; ++x) sumX += triangle(((float)x - tx.center + 0.5f) * tx.inverseScale);
        float r = 0.0f, g = 0.0f, b = 0.0f, sumY = 0.0f;
        for (int y = ty.first; y < ty.last; ++y) {
            const float wy = triangle(((float)y - ty.center + 0.5f) * ty.inverseScale);
            if (wy == 0.0f) continue;
            sumY += wy;
            const unsigned char* row = source + (long long)y * s.sourcePitch;
            float rr = 0.0f, gg = 0.0f, bb = 0.0f;
            for (int x = tx.first; x < tx.last; ++x) {
                const float wx = triangle(((float)x - tx.center + 0.5f) * tx.inverseScale);
                const unsigned char* px = row + 3 * x;
                rr += wx * px[0];
                gg += wx * px[1];
                bb += wx * px[2];
            }
            r += wy * rr;
            g += wy * gg;
            b += wy * bb;
        }
        const float norm = (sumX > 0.0f && sumY > 0.0f) ? 1.0f / (sumX * sumY) : 0.0f;
        float value[3] = { r * norm, g * norm, b * norm };

        for (int c = 0; c < 3; ++c) {
            const long long element = p.layout == 0 ? (long long)c * pixels + i : (long long)i * 3 + c;
            float v = value[c];
            v = v < 0.0f ? 0.0f : (v > 255.0f ? 255.0f : v);
            switch (p.pixelType) {
            case 0: ((float*)output)[element] = v * p.scale[c] + p.bias[c]; break;
            case 1: ((unsigned short*)output)[element] = to_half(v * p.scale[c] + p.bias[c]); break;
            case 2: ((unsigned short*)output)[element] = to_bfloat16(v * p.scale[c] + p.bias[c]); break;
            default: output[element] = (unsigned char)(v + 0.5f); break;
            }
        }
    }
}
