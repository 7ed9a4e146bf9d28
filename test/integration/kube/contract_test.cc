// The contract against both backends: the fake and the real control plane.
#include "integration/kube/contract_envs.h"
#include "integration/kube/kube_contract.h"

namespace bgo::testing {

INSTANTIATE_TYPED_TEST_SUITE_P(Fake, KubeContractTest, FakeEnv);
INSTANTIATE_TYPED_TEST_SUITE_P(Rest, KubeContractTest, RestEnv);

}  // namespace bgo::testing
