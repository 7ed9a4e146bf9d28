// The contract against the fake alone, so `make unit` keeps checking it
// without a control plane (contract_test.cc runs both backends).
#include "integration/kube/contract_envs.h"
#include "integration/kube/kube_contract.h"

namespace bgo::testing {

INSTANTIATE_TYPED_TEST_SUITE_P(Fake, KubeContractTest, FakeEnv);

}  // namespace bgo::testing
