// Uses two installed modules: eval's AUC (checked against a value worked by hand) and data's
// stage-range order. Prints "consumer: ok" or the difference and exits 1.
#include <cstdio>
#include <vector>

#include "ishannot/data/dataset.h"
#include "ishannot/eval/metrics.h"
#include "ishannot/version.h"

int main() {
  // Scores 0.1 0.4 0.35 0.8 with truths 0 0 1 1: 3 of the 4 (positive, negative) pairs are
  // ordered correctly -> AUC 0.75 (scikit-learn's roc_auc_score gives the same).
  const auto auc = ishannot::roc_auc({0.1, 0.4, 0.35, 0.8}, {0, 0, 1, 1});
  const int order = ishannot::stage_order("13-16");  // the sixth BDGP stage range
  if (!auc || *auc != 0.75 || order != 6) {
    std::printf("consumer: FAIL auc=%g stage_order(13-16)=%d\n", auc ? *auc : -1.0, order);
    return 1;
  }
  std::printf("consumer: ok (ishannot %s, AUC %.2f, 13-16 is range %d)\n", ISHANNOT_VERSION, *auc,
              order);
  return 0;
}
