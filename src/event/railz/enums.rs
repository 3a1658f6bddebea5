//! Railz string enums. Every enum is `#[non_exhaustive]` and keeps values it does not
//! know in `Other(String)`, so a new value from the provider is never an error.

string_enum! {
    /// The event tag, `data.event`.
    ///
    /// ```
    /// use ledgerhook::railz::EventType;
    ///
    /// assert_eq!(EventType::from("batchPush"), EventType::BatchPush);
    /// ```
    pub enum EventType {
        Login = "login",
        Auth = "auth",
        ConnectionStatusChanged = "connectionStatus",
        CustomerRequest = "customerRequest",
        Data = "data",
        DataPerType = "dataPerType",
        Push = "push",
        BatchPush = "batchPush",
        Delete = "delete",
    }
}

string_enum! {
    /// The accounting, banking or commerce service behind a connection (`serviceName`):
    /// the union of the values in Railz's OpenAPI spec.
    ///
    /// ```
    /// use ledgerhook::railz::ServiceName;
    ///
    /// assert_eq!(ServiceName::from("sageIntacct"), ServiceName::SageIntacct);
    /// assert_eq!(ServiceName::from("newLedger").as_str(), "newLedger");
    /// ```
    pub enum ServiceName {
        DynamicsBusinessCentral = "dynamicsBusinessCentral",
        Freshbooks = "freshbooks",
        Myob = "myob",
        OracleNetsuite = "oracleNetsuite",
        Plaid = "plaid",
        Quickbooks = "quickbooks",
        QuickbooksDesktop = "quickbooksDesktop",
        RailzSandbox = "railzSandbox",
        SageBusinessCloud = "sageBusinessCloud",
        SageIntacct = "sageIntacct",
        Shopify = "shopify",
        Square = "square",
        Wave = "wave",
        Xero = "xero",
        ZohoBooks = "zohoBooks",
    }
}

string_enum! {
    /// A data type (`request`, `dataType`, and the keys of a simple `requests` object),
    /// camelCase as in Railz's `/data/dataTypes` list.
    ///
    /// ```
    /// use ledgerhook::railz::DataType;
    ///
    /// assert_eq!(DataType::from("balanceSheets"), DataType::BalanceSheets);
    /// ```
    pub enum DataType {
        AccountingTransactions = "accountingTransactions",
        Accounts = "accounts",
        AgedPayable = "agedPayable",
        AgedReceivable = "agedReceivable",
        Attachments = "attachments",
        BalanceSheets = "balanceSheets",
        BankingReconciliation = "bankingReconciliation",
        BankTransactions = "bankTransactions",
        BankAccounts = "bankAccounts",
        BankTransfers = "bankTransfers",
        BillCreditNotes = "billCreditNotes",
        BillPayments = "billPayments",
        Bills = "bills",
        BusinessInfo = "businessInfo",
        BusinessValuations = "businessValuations",
        CashflowStatements = "cashflowStatements",
        CreditScore = "creditScore",
        Customers = "customers",
        Deposits = "deposits",
        Estimates = "estimates",
        FinancialBenchmarking = "financialBenchmarking",
        FinancialForecasts = "financialForecasts",
        FinancialRatios = "financialRatios",
        FraudRiskMetrics = "fraudRiskMetrics",
        IncomeStatements = "incomeStatements",
        Inventory = "inventory",
        InvoiceCreditNotes = "invoiceCreditNotes",
        InvoicePayments = "invoicePayments",
        Invoices = "invoices",
        JournalEntries = "journalEntries",
        Journals = "journals",
        ProbabilityOfDefault = "probabilityOfDefault",
        PurchaseOrders = "purchaseOrders",
        Refunds = "refunds",
        TaxBenchmarking = "taxBenchmarking",
        TaxRates = "taxRates",
        TaxAuthority = "taxAuthority",
        TrackingCategories = "trackingCategories",
        TrialBalances = "trialBalances",
        Vendors = "vendors",
        PaymentMethods = "paymentMethods",
        PortfolioMetrics = "portfolioMetrics",
        Expenses = "expenses",
        Contacts = "contacts",
        VendorBankAccounts = "vendorBankAccounts",
        CustomerBankAccounts = "customerBankAccounts",
        BillPaymentRequests = "billPaymentRequests",
        Transactions = "transactions",
        Products = "products",
        Orders = "orders",
        Disputes = "disputes",
        BankAssets = "bankAssets",
    }
}

string_enum! {
    /// A connection status (`oldStatus`/`newStatus` of `connectionStatus`). The API lists
    /// pending, active, disconnected, expired and invalid; the webhook docs also use
    /// `inactive`.
    ///
    /// ```
    /// use ledgerhook::railz::ConnectionStatus;
    ///
    /// assert_eq!(ConnectionStatus::from("disconnected"), ConnectionStatus::Disconnected);
    /// ```
    pub enum ConnectionStatus {
        Pending = "pending",
        Active = "active",
        Disconnected = "disconnected",
        Expired = "expired",
        Invalid = "invalid",
        Inactive = "inactive",
    }
}

string_enum! {
    /// Why a connection was disconnected (`disconnectReason`).
    ///
    /// ```
    /// use ledgerhook::railz::DisconnectReason;
    ///
    /// assert_eq!(DisconnectReason::from("expiredCredentials"), DisconnectReason::ExpiredCredentials);
    /// ```
    pub enum DisconnectReason {
        DuplicateAccount = "duplicateAccount",
        UnauthorizedClientIdKey = "unauthorizedClientIdKey",
        UnauthorizedCredentials = "unauthorizedCredentials",
        ExpiredCredentials = "expiredCredentials",
        CredentialsNotFound = "credentialsNotFound",
        ReauthorizationRequired = "reauthorizationRequired",
        AuthorizationRevoked = "authorizationRevoked",
        InstitutionNotFound = "institutionNotFound",
        InsufficientPermission = "insufficientPermission",
        DisconnectedByCustomer = "disconnectedByCustomer",
    }
}

string_enum! {
    /// The period of a report request (`reportFrequency`).
    ///
    /// ```
    /// use ledgerhook::railz::ReportFrequency;
    ///
    /// assert_eq!(ReportFrequency::from("quarter"), ReportFrequency::Quarter);
    /// ```
    pub enum ReportFrequency {
        Year = "year",
        Quarter = "quarter",
        Month = "month",
    }
}

string_enum! {
    /// The outcome of one data sync request (`requests[].status`).
    ///
    /// ```
    /// use ledgerhook::railz::RequestStatus;
    ///
    /// assert_eq!(RequestStatus::from("empty"), RequestStatus::Empty);
    /// ```
    pub enum RequestStatus {
        Success = "success",
        Failed = "failed",
        Empty = "empty",
    }
}

string_enum! {
    /// The outcome of a push, batch push item or delete (`status`). The webhook docs
    /// list success and failed; the API objects also have pending.
    ///
    /// ```
    /// use ledgerhook::railz::PushStatus;
    ///
    /// assert_eq!(PushStatus::from("failed"), PushStatus::Failed);
    /// ```
    pub enum PushStatus {
        Success = "success",
        Failed = "failed",
        Pending = "pending",
    }
}

string_enum! {
    /// The kind of GDPR request in `customerRequest` (wire field `type`).
    ///
    /// ```
    /// use ledgerhook::railz::CustomerRequestType;
    ///
    /// assert_eq!(CustomerRequestType::from("customersRedact"), CustomerRequestType::CustomersRedact);
    /// ```
    pub enum CustomerRequestType {
        CustomersDataRequest = "customersDataRequest",
        CustomersRedact = "customersRedact",
    }
}

string_enum! {
    /// How a sync was triggered (`dataSyncType`). Railz does not document the values;
    /// the two here are the ones its published samples show.
    ///
    /// ```
    /// use ledgerhook::railz::DataSyncType;
    ///
    /// assert_eq!(DataSyncType::from("fullSync"), DataSyncType::FullSync);
    /// ```
    pub enum DataSyncType {
        FullSync = "fullSync",
        ManualSync = "manualSync",
    }
}
