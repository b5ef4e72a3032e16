// Lets the IO tests check tokenizer internals (Unicode normalization, regex translation) against the JS goldens directly.
using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("MambaVL.IO.Tests")]
