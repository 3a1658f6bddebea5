//! RootFi string enums. Every enum is `#[non_exhaustive]` and keeps values it does not
//! know in `Other(String)`, so a new value from the provider is never an error.

string_enum! {
    /// The v3 `webhook_type` tag (also the v4 configuration's `webhook_type`).
    ///
    /// ```
    /// use ledgerhook::rootfi::WebhookType;
    ///
    /// assert_eq!(WebhookType::from("SYNC_COMPLETED"), WebhookType::SyncCompleted);
    /// assert_eq!(WebhookType::from("NEW_THING").as_str(), "NEW_THING");
    /// ```
    pub enum WebhookType {
        DataModelChanges = "DATA_MODEL_CHANGES",
        ConnectionChanged = "CONNECTION_CHANGED",
        SyncStarted = "SYNC_STARTED",
        SyncCompleted = "SYNC_COMPLETED",
        Integration = "INTEGRATION",
    }
}

string_enum! {
    /// A RootFi data model: the 62 plural v3 names, then the singular v4 names.
    ///
    /// The v4 docs confirm only `ACCOUNT`, `TAX_RATE` and `INVOICE`; the other singular
    /// names are the v3 names made singular (`COMPANY_INFO`, `INCOME_STATEMENT`,
    /// `BALANCE_SHEET` and `CASH_FLOW_STATEMENT` are the same in both and listed once).
    /// Any other value parses into [`DataModel::Other`].
    ///
    /// ```
    /// use ledgerhook::rootfi::DataModel;
    ///
    /// assert_eq!(DataModel::from("CRM_DEALS"), DataModel::CrmDeals);
    /// assert_eq!(DataModel::from("TAX_RATE"), DataModel::TaxRate);
    /// assert_eq!(DataModel::PaymentRefunds.to_string(), "PAYMENT_REFUNDS");
    /// assert!(!DataModel::from("PAYROLL").is_known());
    /// ```
    pub enum DataModel {
        Accounts = "ACCOUNTS",
        BankAccounts = "BANK_ACCOUNTS",
        Bills = "BILLS",
        BillPayments = "BILL_PAYMENTS",
        CompanyInfo = "COMPANY_INFO",
        Contacts = "CONTACTS",
        BillCreditNotes = "BILL_CREDIT_NOTES",
        InvoiceCreditNotes = "INVOICE_CREDIT_NOTES",
        Documents = "DOCUMENTS",
        Expenses = "EXPENSES",
        Invoices = "INVOICES",
        InvoicePayments = "INVOICE_PAYMENTS",
        Items = "ITEMS",
        LineItems = "LINE_ITEMS",
        TaxRates = "TAX_RATES",
        JournalEntries = "JOURNAL_ENTRIES",
        BankTransactions = "BANK_TRANSACTIONS",
        JournalLines = "JOURNAL_LINES",
        PurchaseOrders = "PURCHASE_ORDERS",
        SalesOrders = "SALES_ORDERS",
        PhoneNumbers = "PHONE_NUMBERS",
        Addresses = "ADDRESSES",
        ExternalLinks = "EXTERNAL_LINKS",
        ContactPersons = "CONTACT_PERSONS",
        IncomeStatement = "INCOME_STATEMENT",
        BalanceSheet = "BALANCE_SHEET",
        TrackingCategories = "TRACKING_CATEGORIES",
        CashFlowStatement = "CASH_FLOW_STATEMENT",
        Currencies = "CURRENCIES",
        PaymentCustomers = "PAYMENT_CUSTOMERS",
        PaymentInvoices = "PAYMENT_INVOICES",
        PaymentLineItems = "PAYMENT_LINE_ITEMS",
        PaymentItems = "PAYMENT_ITEMS",
        PaymentOrders = "PAYMENT_ORDERS",
        PaymentTaxRates = "PAYMENT_TAX_RATES",
        PaymentDisputes = "PAYMENT_DISPUTES",
        PaymentPayments = "PAYMENT_PAYMENTS",
        PaymentRefunds = "PAYMENT_REFUNDS",
        PaymentPaymentLinks = "PAYMENT_PAYMENT_LINKS",
        PaymentPayouts = "PAYMENT_PAYOUTS",
        PaymentAddresses = "PAYMENT_ADDRESSES",
        PaymentPhoneNumbers = "PAYMENT_PHONE_NUMBERS",
        PaymentExternalLinks = "PAYMENT_EXTERNAL_LINKS",
        PaymentTransactions = "PAYMENT_TRANSACTIONS",
        PaymentBalances = "PAYMENT_BALANCES",
        EcommerceOrders = "ECOMMERCE_ORDERS",
        EcommerceCustomers = "ECOMMERCE_CUSTOMERS",
        EcommerceProducts = "ECOMMERCE_PRODUCTS",
        EcommerceLineItems = "ECOMMERCE_LINE_ITEMS",
        CrmContacts = "CRM_CONTACTS",
        CrmCompanies = "CRM_COMPANIES",
        CrmDeals = "CRM_DEALS",
        CrmLeads = "CRM_LEADS",
        CrmNotes = "CRM_NOTES",
        CrmPipelines = "CRM_PIPELINES",
        CrmStages = "CRM_STAGES",
        CrmActivities = "CRM_ACTIVITIES",
        CrmTasks = "CRM_TASKS",
        CrmUsers = "CRM_USERS",
        CrmExternalLinks = "CRM_EXTERNAL_LINKS",
        CrmPhoneNumbers = "CRM_PHONE_NUMBERS",
        CrmAddresses = "CRM_ADDRESSES",
        Account = "ACCOUNT",
        BankAccount = "BANK_ACCOUNT",
        Bill = "BILL",
        BillPayment = "BILL_PAYMENT",
        Contact = "CONTACT",
        BillCreditNote = "BILL_CREDIT_NOTE",
        InvoiceCreditNote = "INVOICE_CREDIT_NOTE",
        Document = "DOCUMENT",
        Expense = "EXPENSE",
        Invoice = "INVOICE",
        InvoicePayment = "INVOICE_PAYMENT",
        Item = "ITEM",
        LineItem = "LINE_ITEM",
        TaxRate = "TAX_RATE",
        JournalEntry = "JOURNAL_ENTRY",
        BankTransaction = "BANK_TRANSACTION",
        JournalLine = "JOURNAL_LINE",
        PurchaseOrder = "PURCHASE_ORDER",
        SalesOrder = "SALES_ORDER",
        PhoneNumber = "PHONE_NUMBER",
        Address = "ADDRESS",
        ExternalLink = "EXTERNAL_LINK",
        ContactPerson = "CONTACT_PERSON",
        TrackingCategory = "TRACKING_CATEGORY",
        Currency = "CURRENCY",
        PaymentCustomer = "PAYMENT_CUSTOMER",
        PaymentInvoice = "PAYMENT_INVOICE",
        PaymentLineItem = "PAYMENT_LINE_ITEM",
        PaymentItem = "PAYMENT_ITEM",
        PaymentOrder = "PAYMENT_ORDER",
        PaymentTaxRate = "PAYMENT_TAX_RATE",
        PaymentDispute = "PAYMENT_DISPUTE",
        PaymentPayment = "PAYMENT_PAYMENT",
        PaymentRefund = "PAYMENT_REFUND",
        PaymentPaymentLink = "PAYMENT_PAYMENT_LINK",
        PaymentPayout = "PAYMENT_PAYOUT",
        PaymentAddress = "PAYMENT_ADDRESS",
        PaymentPhoneNumber = "PAYMENT_PHONE_NUMBER",
        PaymentExternalLink = "PAYMENT_EXTERNAL_LINK",
        PaymentTransaction = "PAYMENT_TRANSACTION",
        PaymentBalance = "PAYMENT_BALANCE",
        EcommerceOrder = "ECOMMERCE_ORDER",
        EcommerceCustomer = "ECOMMERCE_CUSTOMER",
        EcommerceProduct = "ECOMMERCE_PRODUCT",
        EcommerceLineItem = "ECOMMERCE_LINE_ITEM",
        CrmContact = "CRM_CONTACT",
        CrmCompany = "CRM_COMPANY",
        CrmDeal = "CRM_DEAL",
        CrmLead = "CRM_LEAD",
        CrmNote = "CRM_NOTE",
        CrmPipeline = "CRM_PIPELINE",
        CrmStage = "CRM_STAGE",
        CrmActivity = "CRM_ACTIVITY",
        CrmTask = "CRM_TASK",
        CrmUser = "CRM_USER",
        CrmExternalLink = "CRM_EXTERNAL_LINK",
        CrmPhoneNumber = "CRM_PHONE_NUMBER",
        CrmAddress = "CRM_ADDRESS",
    }
}

string_enum! {
    /// The accounting, payment, e-commerce or CRM platform behind a connection: the v3
    /// list, plus v4's `OODOO_ACCOUNTING` (v4's spelling of v3's `ODOO_ACCOUNTING`; both
    /// are kept distinct, as sent) and `FRESHBOOKS`.
    ///
    /// ```
    /// use ledgerhook::rootfi::IntegrationType;
    ///
    /// assert_eq!(IntegrationType::from("ZOHO_BOOKS"), IntegrationType::ZohoBooks);
    /// assert_ne!(IntegrationType::OdooAccounting, IntegrationType::OodooAccounting);
    /// ```
    pub enum IntegrationType {
        ZohoBooks = "ZOHO_BOOKS",
        QuickbooksSandbox = "QUICKBOOKS_SANDBOX",
        Quickbooks = "QUICKBOOKS",
        Xero = "XERO",
        Tally = "TALLY",
        RootfiSandbox = "ROOTFI_SANDBOX",
        SageCloudAccounting = "SAGE_CLOUD_ACCOUNTING",
        MsDynamics365 = "MS_DYNAMICS_365",
        SageZaCloudAccounting = "SAGE_ZA_CLOUD_ACCOUNTING",
        MyobBusiness = "MYOB_BUSINESS",
        Netsuite = "NETSUITE",
        Wave = "WAVE",
        OdooAccounting = "ODOO_ACCOUNTING",
        Wafeq = "WAFEQ",
        MekariJurnal = "MEKARI_JURNAL",
        Busy = "BUSY",
        Qoyod = "QOYOD",
        Stripe = "STRIPE",
        Razorpay = "RAZORPAY",
        Paypal = "PAYPAL",
        Shopify = "SHOPIFY",
        BigCommerce = "BIG_COMMERCE",
        WooCommerce = "WOO_COMMERCE",
        Hubspot = "HUBSPOT",
        Salesforce = "SALESFORCE",
        Pipedrive = "PIPEDRIVE",
        ZohoCrm = "ZOHO_CRM",
        OodooAccounting = "OODOO_ACCOUNTING",
        Freshbooks = "FRESHBOOKS",
    }
}

string_enum! {
    /// The change a `DATA_MODEL_CHANGES` event reports (wire field `type`).
    ///
    /// ```
    /// use ledgerhook::rootfi::Operation;
    ///
    /// assert_eq!("DELETE".parse::<Operation>().unwrap(), Operation::Delete);
    /// ```
    pub enum Operation {
        Create = "CREATE",
        Update = "UPDATE",
        Delete = "DELETE",
    }
}

string_enum! {
    /// A connection's health in `CONNECTION_CHANGED`.
    ///
    /// ```
    /// use ledgerhook::rootfi::ConnectionStatus;
    ///
    /// assert_eq!(ConnectionStatus::from("EXPIRED"), ConnectionStatus::Expired);
    /// ```
    pub enum ConnectionStatus {
        Healthy = "HEALTHY",
        Expired = "EXPIRED",
        Disconnected = "DISCONNECTED",
    }
}

string_enum! {
    /// The status of a sync (`SYNC_STARTED`/`SYNC_COMPLETED` `data.status`).
    ///
    /// ```
    /// use ledgerhook::rootfi::SyncStatus;
    ///
    /// assert_eq!(SyncStatus::from("PARTIAL_SUCCESS"), SyncStatus::PartialSuccess);
    /// ```
    pub enum SyncStatus {
        Success = "SUCCESS",
        Running = "RUNNING",
        Failed = "FAILED",
        PartialSuccess = "PARTIAL_SUCCESS",
    }
}

string_enum! {
    /// The status of one job inside a sync.
    ///
    /// ```
    /// use ledgerhook::rootfi::JobStatus;
    ///
    /// assert_eq!(JobStatus::from("CREATED"), JobStatus::Created);
    /// ```
    pub enum JobStatus {
        Created = "CREATED",
        Running = "RUNNING",
        Success = "SUCCESS",
        Failed = "FAILED",
    }
}

string_enum! {
    /// Whether a sync or job reads from (`PULL`) or writes to (`PUSH`) the platform.
    ///
    /// ```
    /// use ledgerhook::rootfi::JobType;
    ///
    /// assert_eq!(JobType::from("PULL"), JobType::Pull);
    /// ```
    pub enum JobType {
        Pull = "PULL",
        Push = "PUSH",
        Custom = "CUSTOM",
    }
}
