#include "unit/kube_rest/test_pki.h"

#include <memory>
#include <stdexcept>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace bgo::testing {

namespace {

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test PKI: ") + what);
}

std::string keyPem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  check(PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr) == 1, "write key");
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

std::string certPem(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  check(PEM_write_bio_X509(bio, cert) == 1, "write cert");
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

EVP_PKEY* readKey(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  check(key != nullptr, "read key");
  return key;
}

X509* readCert(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  check(cert != nullptr, "read cert");
  return cert;
}

void addExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  check(ext != nullptr, "extension");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

TestCert make(const std::string& cn, const TestCert* ca, const std::vector<std::string>& ips,
              const std::vector<std::string>& dns, const std::string& org) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  check(key != nullptr, "keygen");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  static long serial = 1;
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++ + static_cast<long>(time(nullptr)));
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()),
                             -1, -1, 0);
  if (!org.empty()) {
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(org.c_str()),
                               -1, -1, 0);
  }
  X509* issuer = cert;
  EVP_PKEY* signer = key;
  X509* ca_cert = nullptr;
  EVP_PKEY* ca_key = nullptr;
  if (ca) {
    ca_cert = readCert(ca->cert_pem);
    ca_key = readKey(ca->key_pem);
    issuer = ca_cert;
    signer = ca_key;
  }
  X509_set_issuer_name(cert, X509_get_subject_name(issuer));
  if (!ca) {
    addExt(cert, issuer, NID_basic_constraints, "critical,CA:TRUE");
    addExt(cert, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    addExt(cert, issuer, NID_basic_constraints, "critical,CA:FALSE");
    addExt(cert, issuer, NID_ext_key_usage, "serverAuth,clientAuth");
    std::string san;
    for (const auto& ip : ips) san += (san.empty() ? "" : ",") + std::string("IP:") + ip;
    for (const auto& d : dns) san += (san.empty() ? "" : ",") + std::string("DNS:") + d;
    if (!san.empty()) addExt(cert, issuer, NID_subject_alt_name, san);
  }
  check(X509_sign(cert, signer, EVP_sha256()) > 0, "sign");
  TestCert out{certPem(cert), keyPem(key)};
  X509_free(cert);
  EVP_PKEY_free(key);
  if (ca_cert) X509_free(ca_cert);
  if (ca_key) EVP_PKEY_free(ca_key);
  return out;
}

}  // namespace

TestCert makeCa(const std::string& common_name) { return make(common_name, nullptr, {}, {}, ""); }

TestCert makeSigned(const TestCert& ca, const std::string& common_name, const std::vector<std::string>& ips,
                    const std::vector<std::string>& dns, const std::string& organization) {
  return make(common_name, &ca, ips, dns, organization);
}

}  // namespace bgo::testing
