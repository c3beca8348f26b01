// The CUDA device runtime: device discovery, per-device selection and the one stream per device
// that every op and copy is ordered on. Invariants: device_count() probes the driver once; a
// failed probe (no driver, no device) is remembered and reported by require_device() as
// "no CUDA device: ...; run with --device cpu". Streams are created lazily, never destroyed (they
// live as long as the process, like the CUDA context), and are non-blocking with respect to the
// legacy default stream. This header does not include CUDA headers, so code built against the
// SIMT emulator can include it too.
#pragma once
#include <string>

struct CUstream_st;  // cudaStream_t is CUstream_st*

namespace s2dm::cuda {

using Stream = CUstream_st*;

// Number of usable CUDA devices; 0 when the driver or the devices are missing.
int device_count();
// Why device_count() is 0 ("CUDA driver version is insufficient ..."); empty when devices exist.
const std::string& probe_error();
// Throws s2dm::Error unless cuda:index exists (message names the problem and --device cpu).
void require_device(int index);
// Makes cuda:index current on the calling thread (validated first).
void set_device(int index);
// The stream all work on cuda:index runs on.
Stream stream(int index);
// Waits for all work queued on cuda:index's stream.
void synchronize(int index);
// "NVIDIA H100 80GB HBM3, compute 9.0, 79.1 GiB" for logs.
std::string device_description(int index);
// "0000:1B:00.0": tells GPUs apart across processes (CUDA_VISIBLE_DEVICES renumbers them).
std::string pci_bus_id(int index);

}  // namespace s2dm::cuda
