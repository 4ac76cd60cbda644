//! OpenSSL "salted" AES-256-CBC container (spec §8): `Salted__` + salt + ciphertext,
//! key/iv from EVP_BytesToKey. The salt always comes from the caller.
