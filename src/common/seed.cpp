#include "ishannot/common/seed.h"

namespace ishannot {

uint64_t derive_seed(uint64_t seed, std::initializer_list<uint64_t> ids) {
  uint64_t h = mix64(seed);
  for (uint64_t id : ids) h = mix64(h ^ mix64(id));
  return h;
}

uint64_t derive_seed(uint64_t seed, SeedStream purpose, std::initializer_list<uint64_t> ids) {
  uint64_t h = derive_seed(seed, {stream(purpose)});
  for (uint64_t id : ids) h = mix64(h ^ mix64(id));  // the same chain as derive_seed's
  return h;
}

}  // namespace ishannot
