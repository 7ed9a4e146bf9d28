// main for tests that talk to the real control plane: the REST runtime is set
// up before anything else (see initRestRuntime).
#include <gtest/gtest.h>

#include "operator/kube/rest/rest_kube_client.h"

int main(int argc, char** argv) {
  bgo::kube::rest::initRestRuntime(4);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
