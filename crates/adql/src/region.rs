//! REGION literals (STC-S and DALI). Being written.
