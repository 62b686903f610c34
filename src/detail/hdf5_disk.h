#pragma once
// Internal: the disk discipline of every HDF5 file we write in place and resume (feature stores,
// src/features/store_writer_disk.cpp; model bundles, src/annotate/model_bundle_writer.cpp):
// each step flushed and fsync'ed, the room for the next step checked against RLIMIT_FSIZE and
// reserved (fallocate, else statvfs) before HDF5 writes anything, and HDF5 closed safely after a
// write the disk refused (its pending writes go to /dev/null instead of crashing in H5Fclose).
#include <hdf5.h>

#include <string>

namespace ishannot::detail {

/// HDF5's descriptor of an open file (-1 when unknown).
int hdf5_descriptor(hid_t file);

/// Flushes HDF5's buffers of `file` (written at `path`) and fsyncs them: after it, what was written
/// survives a crash, and a full disk has been reported. Error "PATH: STEP: disk full ..." /
/// "file-size limit ..." otherwise.
void sync_hdf5(hid_t file, const std::string& path, const std::string& step);

/// Before a step that grows `path` (open in HDF5 as `file`) by about `growth` bytes: Error
/// "PATH: file-size limit (ulimit -f) reached: ... WHAT needs ...; KEPT (raise the limit and
/// rerun to resume)" or "PATH: disk full: ..." when it cannot fit, else the blocks are reserved
/// (beyond the end of the file; release_reservation frees what was not used). `what` names the
/// step ("the next batch"), `kept` what the partial keeps ("the 120 rows written are kept").
void reserve_room(hid_t file, const std::string& path, double growth, const std::string& what,
                  const std::string& kept);

/// After a write failed: HDF5's descriptor of `file` is pointed at /dev/null, so that closing it
/// neither writes the refused changes again nor crashes; the file keeps what the last sync left.
void abandon_pending_writes(hid_t file);

/// Frees the blocks reserve_room reserved beyond the end of `path`.
void release_reservation(const std::string& path);

}  // namespace ishannot::detail
