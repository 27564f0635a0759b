/*
 * keysize.h - the sizes of key ids and public keys. crypto/keys.h makes and loads the keys;
 * the store only records ids and public keys (results keys, devices), so it takes the sizes
 * from here and never includes crypto.
 */
#ifndef OUTPOST_BASE_KEYSIZE_H
#define OUTPOST_BASE_KEYSIZE_H

#define KEY_ID_BYTES     8
#define KEY_ID_HEX_LEN   (KEY_ID_BYTES * 2 + 1) /* hex and the NUL */
#define KEY_PUBLIC_BYTES 32                     /* X25519 and Ed25519 public keys */

#endif
