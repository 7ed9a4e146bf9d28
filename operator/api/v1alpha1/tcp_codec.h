#pragma once
// spec.routing.tcp and status.tcpRoute <-> types. Kept apart from codec.cc so
// the database route reads as one unit; codec.cc calls these.

#include <vector>

#include "operator/api/v1alpha1/codec.h"
#include "operator/api/v1alpha1/types.h"

namespace bgo::api {

// Reads routing.tcp into spec.tcp (absent: nullopt), recording FieldErrors.
void parseTcpRoute(const json& routing, Spec& spec, std::vector<FieldError>& errors);
// Checks the CRD makes too (an older CRD, or a client that skipped it).
void validateTcpRoute(const Spec& spec, std::vector<FieldError>& errors);

std::optional<TcpRouteStatus> parseTcpRouteStatus(const json& status);
void putTcpRouteStatus(const std::optional<TcpRouteStatus>& s, json& status);

}  // namespace bgo::api
