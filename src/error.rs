//! Errors, with their exact Redis 7 wire text.
//!
//! * [`CmdError`] is what a command returns when it fails: it becomes an error reply and the connection
//!   carries on. Its `Display` is byte-for-byte the text Redis sends (without the leading `-`).
//! * [`ProtocolError`] is a framing error: Redis sends `-ERR Protocol error: ...` and closes the connection,
//!   and so do we.
//!
//! Error strings live here and nowhere else, so tests can compare them with Redis in one place.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CmdError {
    #[error("ERR wrong number of arguments for '{0}' command")]
    WrongArity(&'static str),
    #[error("ERR unknown command '{name}', with args beginning with: {args}")]
    UnknownCommand { name: String, args: String },
    #[error("ERR unknown subcommand '{sub}'. Try {container} HELP.")]
    UnknownSubcommand { sub: String, container: String },
    #[error("WRONGTYPE Operation against a key holding the wrong kind of value")]
    WrongType,
    #[error("ERR syntax error")]
    Syntax,
    #[error("ERR value is not an integer or out of range")]
    NotInteger,
    #[error("ERR value is out of range, must be positive")]
    NotPositive,
    #[error("ERR value is not a valid float")]
    NotFloat,
    #[error("ERR increment or decrement would overflow")]
    Overflow,
    #[error("ERR increment would produce NaN or Infinity")]
    NanOrInfinity,
    #[error("ERR no such key")]
    NoSuchKey,
    #[error("ERR invalid expire time in '{0}' command")]
    InvalidExpire(&'static str),
    #[error("ERR string exceeds maximum allowed size (proto-max-bulk-len)")]
    StringTooLong,
    #[error("ERR bit offset is not an integer or out of range")]
    BitOffset,
    #[error("ERR bit is not an integer or out of range")]
    BitValue,
    #[error("ERR DB index is out of range")]
    DbIndexOutOfRange,
    #[error("ERR source and destination objects are the same")]
    SameObject,
    #[error("ERR index out of range")]
    IndexOutOfRange,
    #[error("ERR {0}")]
    /// A Redis `ERR` message whose text is built from the request (kept rare: prefer a variant).
    Generic(String),
    #[error("NOAUTH Authentication required.")]
    NoAuth,
    #[error("WRONGPASS invalid username-password pair or user is disabled.")]
    WrongPass,
    #[error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")]
    AuthNotConfigured,
    #[error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")]
    HelloNoAuth,
    #[error("NOPROTO unsupported protocol version")]
    NoProto,
    #[error("ERR Protocol version is not an integer or out of range")]
    ProtoNotInteger,
    #[error("ERR NX and XX, GT or LT options at the same time are not compatible")]
    ExpireNxAndOthers,
    #[error("ERR GT and LT options at the same time are not compatible")]
    ExpireGtAndLt,
    #[error("ERR Client names cannot contain spaces, newlines or special characters.")]
    BadClientName,
    #[error("ERR {0} is out of range")]
    OutOfRange(&'static str),
    #[error("ERR timeout is not a float or out of range")]
    TimeoutNotFloat,
    #[error("ERR timeout is negative")]
    TimeoutNegative,
    #[error("ERR timeout is out of range")]
    TimeoutOutOfRange,
    #[error("ERR invalid cursor")]
    InvalidCursor,
    #[error("ERR Can't execute '{0}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")]
    SubscribedMode(&'static str),
    #[error(
        "ERR unknown subcommand or wrong number of arguments for '{sub}'. Try {container} HELP."
    )]
    SubcommandArgs {
        sub: String,
        container: &'static str,
    },
    #[error("ERR This Redis command is not allowed from script")]
    NotAllowedFromScript,
    #[error("ERR One or more scores can't be converted into double")]
    SortNotDouble,
    // --- transactions ---
    #[error("ERR MULTI calls can not be nested")]
    MultiNested,
    #[error("ERR EXEC without MULTI")]
    ExecWithoutMulti,
    #[error("ERR DISCARD without MULTI")]
    DiscardWithoutMulti,
    #[error("ERR WATCH inside MULTI is not allowed")]
    WatchInsideMulti,
    #[error("EXECABORT Transaction discarded because of previous errors.")]
    ExecAbort,
    #[error("ERR Command not allowed inside a transaction")]
    NotAllowedInMulti,
    // --- lists ---
    #[error("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")]
    LposRankZero,
    #[error("ERR COUNT can't be negative")]
    LposCountNegative,
    #[error("ERR MAXLEN can't be negative")]
    LposMaxlenNegative,
    #[error("ERR numkeys should be greater than 0")]
    NumkeysNotPositive,
    #[error("ERR count should be greater than 0")]
    CountNotPositive,
    // --- bitmaps ---
    #[error("ERR The bit argument must be 1 or 0.")]
    BitArgument,
    #[error("ERR BITOP NOT must be called with a single source key.")]
    BitopNotSingleSource,
    #[error("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.")]
    BitfieldType,
    #[error("ERR Invalid OVERFLOW type specified")]
    BitfieldOverflowType,
    #[error("ERR BITFIELD_RO only supports the GET subcommand")]
    BitfieldRoGetOnly,
    // --- keys ---
    #[error("ERR Unsupported option {0}")]
    UnsupportedOption(String),
    #[error("ERR value is out of range, value must between -2147483648 and 2147483647")]
    NotInt32,
    #[error("ERR invalid first DB index")]
    InvalidFirstDb,
    #[error("ERR invalid second DB index")]
    InvalidSecondDb,
    #[error("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")]
    LfuNotSelected,
    #[error("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")]
    LfuSelected,
    // --- strings ---
    #[error("ERR decrement would overflow")]
    DecrementOverflow,
    #[error("ERR offset is out of range")]
    OffsetOutOfRange,
    #[error("ERR The specified keys must contain string values")]
    LcsNotString,
    #[error("ERR If you want both the length and indexes, please just use IDX.")]
    LcsIdxAndLen,
    #[error("ERR String too long for LCS")]
    LcsTooLong,
    #[error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")]
    LcsNoMemory,
    // --- command_table ---
    #[error("ERR Invalid command specified")]
    InvalidCommandSpecified,
    #[error("ERR Invalid number of arguments specified for command")]
    InvalidCommandArity,
    #[error("ERR The command has no key arguments")]
    NoKeyArguments,
    #[error("ERR Invalid arguments specified for command")]
    InvalidCommandArguments,
    // --- hashes ---
    #[error("ERR hash value is not an integer")]
    HashValueNotInteger,
    #[error("ERR hash value is not a float")]
    HashValueNotFloat,
    #[error("ERR value is NaN or Infinity")]
    ValueNanOrInfinity,
    #[error("ERR value is out of range")]
    ValueOutOfRange,
    /// Same name and text as the sets family's variant (HRANDFIELD/SRANDMEMBER counts): keep one.
    #[error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")]
    CountOutOfRange,
    /// Same name and text as the sets family's variant: keep one. Ferrite's own limit: a random reply
    /// this large would exhaust memory (Redis tries anyway).
    // --- sets ---
    #[error("ERR Number of keys can't be greater than number of args")]
    NumkeysTooMany,
    #[error("ERR LIMIT can't be negative")]
    LimitNegative,
    /// Ferrite's own limit: a random reply this large would exhaust memory (Redis tries anyway).
    #[error("ERR count is too large for a random reply")]
    RandomCountTooLarge,
    // --- zsets ---
    #[error("ERR XX and NX options at the same time are not compatible")]
    ZaddXxNx,
    #[error("ERR GT, LT, and/or NX options at the same time are not compatible")]
    ZaddGtLtNx,
    #[error("ERR INCR option supports a single increment-element pair")]
    ZaddIncrPair,
    #[error("ERR resulting score is not a number (NaN)")]
    ScoreNan,
    #[error("ERR min or max is not a float")]
    MinMaxNotFloat,
    #[error("ERR min or max not valid string range item")]
    LexRangeItem,
    #[error(
        "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
    )]
    ZrangeLimitNeedsBy,
    #[error("ERR syntax error, WITHSCORES not supported in combination with BYLEX")]
    ZrangeWithscoresBylex,
    #[error("ERR at least 1 input key is needed for '{0}' command")]
    AtLeastOneKey(&'static str),
    #[error("ERR weight value is not a float")]
    WeightNotFloat,
    #[error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")]
    ZrandCountRange,
    // --- streams ---
    #[error("ERR Invalid stream ID specified as stream command argument")]
    StreamIdInvalid,
    #[error("ERR The ID specified in XADD is equal or smaller than the target stream top item")]
    XaddIdTooSmall,
    #[error("ERR The ID specified in XADD must be greater than 0-0")]
    XaddIdZero,
    #[error("ERR The stream has exhausted the last possible ID, unable to add more items")]
    StreamExhausted,
    #[error("ERR The MAXLEN argument must be >= 0.")]
    StreamMaxlenNegative,
    #[error("ERR The LIMIT argument must be >= 0.")]
    StreamLimitNegative,
    #[error("ERR syntax error, MAXLEN and MINID options at the same time are not compatible")]
    StreamTrimBoth,
    #[error("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy")]
    StreamLimitNoStrategy,
    #[error("ERR syntax error, XTRIM must be called with a trimming strategy")]
    XtrimNoStrategy,
    #[error("ERR syntax error, LIMIT cannot be used without the special ~ option")]
    StreamLimitNoApprox,
    #[error("ERR invalid start ID for the interval")]
    StreamInvalidStart,
    #[error("ERR invalid end ID for the interval")]
    StreamInvalidEnd,
    #[error("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id")]
    XsetidBelowGivenMaxDeleted,
    #[error("ERR The ID specified in XSETID is smaller than the target stream top item")]
    XsetidBelowTop,
    #[error("ERR The entries_added specified in XSETID is smaller than the target stream length")]
    XsetidEntriesAddedBelowLength,
    #[error("ERR entries_added must be positive")]
    XsetidEntriesAddedNegative,
    #[error(
        "ERR Unbalanced {0} list of streams: for each stream key an ID or '{1}' must be specified."
    )]
    XreadUnbalanced(&'static str, char),
    #[error("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.")]
    XreadGroupOption,
    #[error("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.")]
    XreadNoackOption,
    #[error("ERR Missing GROUP option for XREADGROUP")]
    XreadgroupMissingGroup,
    #[error("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.")]
    XreadgroupDollar,
    #[error("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.")]
    XreadGreater,
    #[error("ERR timeout is not an integer or out of range")]
    TimeoutNotInteger,
    /// `NOGROUP` with a text naming the key and group (built by the caller, as Redis's texts vary).
    #[error("NOGROUP {0}")]
    NoGroup(String),
    #[error("BUSYGROUP Consumer Group name already exists")]
    BusyGroup,
    #[error("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.")]
    XgroupNoKey,
    #[error("ERR value for ENTRIESREAD must be positive or -1")]
    EntriesReadInvalid,
    #[error(
        "ERR unknown subcommand or wrong number of arguments for '{sub}'. Try {container} HELP."
    )]
    SubcommandSyntax {
        sub: String,
        container: &'static str,
    },
    /// `Invalid min-idle-time argument for XCLAIM` and its siblings.
    #[error("ERR Invalid {0}")]
    InvalidArgument(&'static str),
    #[error("ERR Unrecognized XCLAIM option '{0}'")]
    XclaimOption(String),
    #[error("ERR COUNT must be > 0")]
    CountNotPositiveStream,
    #[error("UNBLOCKED the stream key no longer exists")]
    UnblockedStreamGone,
    #[error("NOGROUP the consumer group this client was blocked on no longer exists")]
    NoGroupBlockedOn,
    // --- scripting ---
    /// A script's error reply, already in Redis's full text (`ERR user_script:1: ... script: <sha>, on
    /// @user_script:1.`, an error table's own text, ...).
    #[error("{0}")]
    Script(String),
    #[error("ERR Write commands are not allowed from read-only scripts.")]
    ScriptReadOnly,
    #[error("NOSCRIPT No matching script. Please use EVAL.")]
    NoScript,
    #[error("ERR Number of keys can't be negative")]
    NumkeysNegative,
    #[error("ERR SCRIPT FLUSH only support SYNC|ASYNC option")]
    ScriptFlushOption,
    #[error("ERR Unexpected engine in script shebang: {0}")]
    ScriptShebangEngine(String),
    #[error("ERR Unknown lua shebang option: {0}")]
    ScriptShebangOption(String),
    #[error("ERR Unexpected flag in script shebang: {0}")]
    ScriptShebangFlag(String),
    #[error("NOTBUSY No scripts in execution right now.")]
    NotBusy,
    #[error("ERR Use SCRIPT DEBUG YES/SYNC/NO")]
    ScriptDebugMode,
    /// Ferrite's own: the Lua debugger (LDB) is not implemented.
    #[error("ERR SCRIPT DEBUG YES/SYNC is not supported by this server")]
    ScriptDebugUnsupported,
    // --- memory ---
    #[error("OOM command not allowed when used memory > 'maxmemory'.")]
    Oom,
    #[error("EXECABORT Transaction discarded because of: OOM command not allowed when used memory > 'maxmemory'.")]
    ExecAbortOom,
    // --- OPERATIONS (CLIENT PAUSE, CONFIG REWRITE, DEBUG, LATENCY) ---
    #[error("ERR timeout is not an integer or out of range")]
    PauseTimeout,
    #[error("ERR timeout is negative")]
    PauseTimeoutNegative,
    #[error("ERR CLIENT PAUSE mode must be WRITE or ALL")]
    PauseMode,
    #[error("ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.")]
    DebugNotAllowed,
    #[error("ERR argument must be a memory value bigger than 1 and smaller than 4gb")]
    QuicklistThreshold,
    #[error("ERR RESP2 is not supported by this command")]
    Resp2NotSupported,
    #[error("ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false")]
    DebugProtocolType,
    #[error("ERR The server is running without a config file")]
    NoConfigFile,
    /// Sent to a connection refused at accept time, which is then closed.
    #[error("ERR max number of clients reached")]
    MaxClients,
    /// Sent to a non-loopback connection refused by protected mode, which is then closed.
    #[error("DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.")]
    ProtectedMode,
    // --- functions and busy scripts ---
    #[error("ERR Function not found")]
    FunctionNotFound,
    #[error("ERR Library not found")]
    LibraryNotFound,
    #[error("ERR Can not execute a script with write flag using *_ro command.")]
    FunctionWriteFlagRo,
    #[error("ERR Bad number of keys provided")]
    FunctionBadNumkeys,
    #[error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")]
    FunctionFlushOption,
    #[error("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.")]
    FunctionRestorePolicy,
    #[error("ERR DUMP payload version or checksum are wrong")]
    FunctionDumpPayload,
    #[error("ERR library name argument was not given")]
    FunctionListNoLibraryName,
    #[error("ERR Unknown argument {0}")]
    FunctionListArgument(String),
    #[error("ERR Unknown option given: {0}")]
    FunctionLoadOption(String),
    #[error("ERR Function code is missing")]
    FunctionCodeMissing,
    /// FUNCTION LOAD/RESTORE failures whose text names the library or function (`ERR Library 'x'
    /// already exists`, `ERR Error registering functions: ...`, ...).
    #[error("ERR {0}")]
    Function(String),
    #[error("ERR unknown subcommand or wrong number of arguments for '{0}'. Try FUNCTION HELP.")]
    FunctionSubcommandSyntax(&'static str),
    #[error(
        "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
    )]
    BusyEval,
    #[error(
        "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
    )]
    BusyFunction,
    #[error("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.")]
    Unkillable,
    /// EXEC refused while a script is busy: Redis discards the transaction with the refusal's text.
    #[error("EXECABORT Transaction discarded because of: {0}")]
    ExecAbortBecause(String),
}

impl CmdError {
    /// Redis's reply to an unknown command: the name and the first arguments, each quoted, each cut so
    /// the whole list stays under 128 bytes.
    pub fn unknown_command<'a>(name: &[u8], args: impl IntoIterator<Item = &'a [u8]>) -> CmdError {
        let mut list = String::new();
        for a in args {
            if list.len() >= 128 {
                break;
            }
            let room = 128 - list.len();
            let shown = &a[..a.len().min(room)];
            list.push('\'');
            list.push_str(&String::from_utf8_lossy(shown));
            list.push_str("' ");
        }
        let name = &name[..name.len().min(128)];
        CmdError::UnknownCommand {
            name: String::from_utf8_lossy(name).into_owned(),
            args: list,
        }
    }
}

/// A request that cannot be framed. The connection replies with this text and closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ProtocolError {
    #[error("ERR Protocol error: too big mbulk count string")]
    TooBigMbulkCount,
    #[error("ERR Protocol error: invalid multibulk length")]
    InvalidMultibulkLength,
    #[error("ERR Protocol error: unauthenticated multibulk length")]
    UnauthenticatedMultibulkLength,
    #[error("ERR Protocol error: too big bulk count string")]
    TooBigBulkCount,
    #[error("ERR Protocol error: expected '$', got '{}'", *.0 as char)]
    ExpectedDollar(u8),
    #[error("ERR Protocol error: invalid bulk length")]
    InvalidBulkLength,
    #[error("ERR Protocol error: unauthenticated bulk length")]
    UnauthenticatedBulkLength,
    #[error("ERR Protocol error: too big inline request")]
    TooBigInline,
    #[error("ERR Protocol error: unbalanced quotes in request")]
    UnbalancedQuotes,
}
