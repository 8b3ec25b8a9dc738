#ifndef PROBITY_COPENSSL_SHIM_H
#define PROBITY_COPENSSL_SHIM_H

/* SHA256_Init and friends are deprecated in OpenSSL 3 but remain the fastest streaming API. */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/err.h>
#include <openssl/sha.h>
#include <openssl/bio.h>

/* BIO_get_mem_data is a macro; Swift cannot call macros directly. */
static inline long probity_BIO_get_mem_data(BIO *bio, char **out) {
    return BIO_get_mem_data(bio, out);
}

#endif
